# The getting-started page's Python code, as written; only the issuer URL is the local one
# (AUTH_ISSUER is injected by the test) and the snippets are put in one file in page order.
from mcpauth import MCPAuth
from mcpauth.config import AuthServerType, ResourceServerConfig, ResourceServerMetadata
from mcpauth.utils import fetch_server_config
# 1. 定义你的资源标识符,并获取其信任的授权服务器配置。
resource_id = "https://api.example.com/notes"
auth_server_config = fetch_server_config(AUTH_ISSUER, AuthServerType.OIDC)  # noqa: F821
# 2. 以资源服务器模式初始化 MCPAuth。
# `protected_resources` 可以是单个对象,也可以是多个资源的列表。
mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=resource_id,
            authorization_servers=[auth_server_config],
            scopes_supported=[
                "read:notes",
                "write:notes",
            ],
        )
    )
)

from starlette.applications import Starlette

# 挂载路由以提供受保护资源元数据。
# 资源 "https://api.example.com" → 端点: /.well-known/oauth-protected-resource
# 资源 "https://api.example.com/notes" → 端点: /.well-known/oauth-protected-resource/notes
app = Starlette(routes=[
    *mcp_auth.resource_metadata_router().routes,
])

from mcp.server.fastmcp import FastMCP

mcp = FastMCP()
# 按前述示例初始化 MCP Auth
# ...
@mcp.tool()
def add(a: int, b: int):
    """
    一个将两个数字相加的工具。
    认证 (Authentication) 用户信息将在上下文中可用。
    """
    auth_info = mcp_auth.auth_info # 在当前上下文中访问认证 (Authentication) 信息
    if auth_info:
        print(f"Authenticated user: {auth_info.claims}")
    return a + b

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

# 创建中间件,以资源特定策略保护你的 MCP 服务器。
bearer_auth = Middleware(mcp_auth.bearer_auth_middleware('jwt',
    resource=resource_id,
    audience=resource_id, # 启用受众 (Audience) 验证以增强安全性
    required_scopes=['read:notes']
))
# 挂载路由以提供受保护资源元数据,并保护 MCP 服务器。
app = Starlette(
    routes=[
        *mcp_auth.resource_metadata_router().routes,
        # 使用 Bearer 认证 (Authentication) 中间件保护 MCP 服务器。
        Mount("/", app=mcp.sse_app(), middleware=[bearer_auth]),
    ],
)
