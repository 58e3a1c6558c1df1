// Whoami: an MCP server (Kotlin MCP SDK, streamable HTTP) on Ktor, protected by mcp-auth.
// `whoami` tells the caller who they are; `add-todo` needs the `create:todos` scope and
// `delete-todo` the `delete:todos` scope (step-up).
//
//   MCP_AUTH_ISSUER=https://auth.example.com java -cp ... dev.mcpauth.sample.WhoamiServerKt
//
// Environment:
//   MCP_AUTH_ISSUER          issuer of the authorization server (required)
//   PORT                     port to listen on, on 127.0.0.1 (default 3001)
//   MCP_RESOURCE_IDENTIFIER  this server's resource identifier, the URL clients connect to
//                            (default http://127.0.0.1:$PORT/mcp)
//   MCP_STATEFUL             1: one MCP session per client (Mcp-Session-Id); default stateless
//   MCP_AUTH_DPOP            allowed: DPoP-bound tokens (RFC 9449) with proofs as well as bearer
//                            tokens; required: DPoP only; off (default): bearer tokens only
//   MCP_AUTH_DPOP_NONCE_SECRET  with MCP_AUTH_DPOP: server nonces (RFC 9449 §8) sealed under this
//                            secret (at least 32 bytes; replicas sharing it accept each other's)
package dev.mcpauth.sample

import dev.mcpauth.AuthInfo
import dev.mcpauth.AuthorizationServer
import dev.mcpauth.DpopMode
import dev.mcpauth.McpAuth
import dev.mcpauth.ProtectedResource
import dev.mcpauth.ServerType
import dev.mcpauth.ktor.McpBearerAuth
import dev.mcpauth.ktor.authInfo
import dev.mcpauth.ktor.protectedResourceMetadata
import io.ktor.server.application.Application
import io.ktor.server.application.install
import io.ktor.server.cio.CIO
import io.ktor.server.engine.embeddedServer
import io.ktor.server.routing.route
import io.ktor.server.routing.routing
import io.modelcontextprotocol.kotlin.sdk.server.Server
import io.modelcontextprotocol.kotlin.sdk.server.ServerOptions
import io.modelcontextprotocol.kotlin.sdk.server.mcpStatelessStreamableHttp
import io.modelcontextprotocol.kotlin.sdk.server.mcpStreamableHttp
import io.modelcontextprotocol.kotlin.sdk.types.CallToolResult
import io.modelcontextprotocol.kotlin.sdk.types.Implementation
import io.modelcontextprotocol.kotlin.sdk.types.ServerCapabilities
import io.modelcontextprotocol.kotlin.sdk.types.TextContent
import io.modelcontextprotocol.kotlin.sdk.types.ToolSchema
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put
import java.net.URI
import java.util.concurrent.atomic.AtomicInteger

private fun json(value: JsonObject) = CallToolResult(content = listOf(TextContent(value.toString())))

/** The todos of one server, shared by its per-request MCP servers. */
class Todos {
    private val items = LinkedHashMap<String, JsonObject>()
    private val ids = AtomicInteger()

    fun add(
        content: String,
        ownerId: String?,
    ): JsonObject =
        synchronized(items) {
            val id = "todo-${ids.incrementAndGet()}"
            buildJsonObject {
                put("id", id)
                put("content", content)
                put("ownerId", ownerId)
            }.also { items[id] = it }
        }

    fun delete(id: String): JsonObject? = synchronized(items) { items.remove(id) }
}

/** The MCP server of one request: its tools see the caller that mcp-auth let in. */
fun whoamiMcpServer(
    caller: AuthInfo,
    todos: Todos,
): Server {
    val server =
        Server(
            Implementation(name = "Whoami", version = "1.0.0"),
            ServerOptions(capabilities = ServerCapabilities(tools = ServerCapabilities.Tools(listChanged = false))),
        )
    server.addTool(name = "whoami", description = "Who is calling, with which scopes.") {
        val me =
            buildJsonObject {
                put("subject", caller.subject)
                put("clientId", caller.clientId)
                put("issuer", caller.issuer)
                put("scopes", JsonArray(caller.scopes.map(::JsonPrimitive)))
                put("audience", JsonArray(caller.audience.map(::JsonPrimitive)))
                // The thumbprint of the key a DPoP call was signed with; absent for a bearer token.
                caller.jkt?.let { put("jkt", it) }
            }
        json(me)
    }
    val contentSchema = ToolSchema(properties = buildJsonObject { put("content", buildJsonObject { put("type", "string") }) })
    server.addTool(name = "add-todo", description = "Add a todo (requires create:todos).", inputSchema = contentSchema) { request ->
        json(
            todos.add(
                request.arguments
                    ?.get("content")
                    ?.jsonPrimitive
                    ?.content ?: "",
                caller.subject,
            ),
        )
    }
    val idSchema = ToolSchema(properties = buildJsonObject { put("id", buildJsonObject { put("type", "string") }) })
    server.addTool(name = "delete-todo", description = "Delete a todo (requires delete:todos).", inputSchema = idSchema) { request ->
        val id =
            request.arguments
                ?.get("id")
                ?.jsonPrimitive
                ?.content ?: ""
        json(todos.delete(id) ?: buildJsonObject { put("error", "no todo $id") })
    }
    return server
}

/**
 * Metadata, the protected MCP endpoint and its tools, for the resource [resource]; [stateful]
 * keeps one MCP session per client instead of a server per request.
 */
fun Application.whoami(
    issuer: String,
    resource: String,
    stateful: Boolean = false,
    dpop: DpopMode? = null,
    nonceSecret: String? = null,
) {
    val mcpAuth =
        McpAuth(
            ProtectedResource(
                resource = resource,
                // Discovered on first use, so the server starts even while the issuer is down.
                authorizationServers = listOf(AuthorizationServer.Discovery(issuer, ServerType.OIDC)),
                scopesSupported = listOf("read:todos", "create:todos", "delete:todos"),
            ),
        )
    val mcpPath = URI(resource).path
    val todos = Todos()
    routing {
        // The protected resource metadata (RFC 9728), public: clients discover the issuer here.
        protectedResourceMetadata(mcpAuth)
        // Every request to the MCP endpoint needs a token issued for this resource; calls of
        // `add-todo` also need `create:todos`, of `delete-todo` `delete:todos`. The guard reads
        // the JSON-RPC body before the MCP SDK does and answers a missing scope with 403
        // insufficient_scope (the client steps up), then hands the SDK the same bytes.
        route(mcpPath) {
            install(McpBearerAuth) {
                guard =
                    mcpAuth.bearerAuth(resource) {
                        audience = resource
                        toolScopes =
                            mapOf(
                                "add-todo" to listOf("create:todos"),
                                "delete-todo" to listOf("delete:todos"),
                            )
                        // DPoP proofs are checked against this resource identifier's origin.
                        dpop?.let {
                            dpop {
                                mode = it
                                if (nonceSecret != null) {
                                    nonce = true
                                    this.nonceSecret = nonceSecret
                                }
                            }
                        }
                    }
            }
        }
    }
    if (stateful) {
        // A server per session: its tools see the caller that opened the session. The guard
        // still checks every request of the session, with the token that request carries.
        mcpStreamableHttp(path = mcpPath) { whoamiMcpServer(call.authInfo!!, todos) }
    } else {
        // Stateless: a server per request, so every call runs with its own caller.
        mcpStatelessStreamableHttp(path = mcpPath) { whoamiMcpServer(call.authInfo!!, todos) }
    }
}

fun main() {
    val issuer = System.getenv("MCP_AUTH_ISSUER") ?: error("Set MCP_AUTH_ISSUER to the issuer of your authorization server")
    val port = System.getenv("PORT")?.toInt() ?: 3001
    val resource = System.getenv("MCP_RESOURCE_IDENTIFIER") ?: "http://127.0.0.1:$port/mcp"
    val stateful = System.getenv("MCP_STATEFUL") == "1"
    val dpop =
        when (val mode = System.getenv("MCP_AUTH_DPOP")?.lowercase()) {
            null, "", "off" -> null
            "allowed" -> DpopMode.ALLOWED
            "required" -> DpopMode.REQUIRED
            else -> error("MCP_AUTH_DPOP must be allowed, required or off (got `$mode`)")
        }
    val nonceSecret = System.getenv("MCP_AUTH_DPOP_NONCE_SECRET")?.takeIf { it.isNotEmpty() }
    embeddedServer(CIO, port = port, host = "127.0.0.1") {
        whoami(issuer, resource, stateful, dpop, nonceSecret)
    }.start(wait = true)
}
