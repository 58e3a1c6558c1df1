package dev.mcpauth

import dev.mcpauth.ktor.McpBearerAuth
import dev.mcpauth.ktor.authInfo
import dev.mcpauth.ktor.bearerAuth
import dev.mcpauth.ktor.mcpBearer
import dev.mcpauth.ktor.protectedResourceMetadata
import dev.mcpauth.sample.Todos
import dev.mcpauth.sample.whoamiMcpServer
import io.ktor.client.HttpClient
import io.ktor.client.plugins.HttpSend
import io.ktor.client.plugins.plugin
import io.ktor.client.request.header
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.serialization.kotlinx.json.json
import io.ktor.server.application.Application
import io.ktor.server.application.install
import io.ktor.server.auth.Authentication
import io.ktor.server.auth.authenticate
import io.ktor.server.auth.principal
import io.ktor.server.plugins.contentnegotiation.ContentNegotiation
import io.ktor.server.response.respond
import io.ktor.server.response.respondText
import io.ktor.server.routing.Route
import io.ktor.server.routing.RoutingContext
import io.ktor.server.routing.delete
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.route
import io.ktor.server.routing.routing
import io.modelcontextprotocol.kotlin.sdk.client.Client
import io.modelcontextprotocol.kotlin.sdk.client.StreamableHttpClientTransport
import io.modelcontextprotocol.kotlin.sdk.server.Server
import io.modelcontextprotocol.kotlin.sdk.server.StreamableHttpServerTransport
import io.modelcontextprotocol.kotlin.sdk.types.CallToolResult
import io.modelcontextprotocol.kotlin.sdk.types.Implementation
import io.modelcontextprotocol.kotlin.sdk.types.McpJson
import io.modelcontextprotocol.kotlin.sdk.types.TextContent
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.net.InetAddress
import java.net.ServerSocket
import java.util.concurrent.CopyOnWriteArrayList
import io.ktor.client.engine.cio.CIO as ClientCIO

/**
 * The `mcpBearer` Ktor authentication provider with the Kotlin MCP SDK behind `authenticate("mcp")`:
 * the SDK's client calls a tool that sees the caller; refused requests get the plugin's answers;
 * per-tool scopes come from the plugin nested inside, before the tool runs.
 */
class KtorAuthenticationTest {
    private val resource = "https://whoami.example.com/mcp"
    private val prm = "https://whoami.example.com/.well-known/oauth-protected-resource/mcp"
    private val description = "The token does not contain the necessary scopes for this request."

    /**
     * The Kotlin MCP SDK's stateless streamable HTTP endpoint on this route: SDK 0.16 registers
     * its own only on the Application, where `authenticate { }` cannot reach it.
     */
    private fun Route.mcpEndpoint(server: RoutingContext.() -> Server) {
        post {
            val transport = StreamableHttpServerTransport(StreamableHttpServerTransport.Configuration(enableJsonResponse = true))
            transport.setSessionIdGenerator(null)
            val session = server().createSession(transport)
            try {
                transport.handleRequest(null, call)
            } finally {
                session.close()
            }
        }
        get { call.respond(HttpStatusCode.MethodNotAllowed) }
        delete { call.respond(HttpStatusCode.MethodNotAllowed) }
    }

    /**
     * The whoami tools behind `authenticate("mcp")` at `/mcp`; with [perToolScopes] `add-todo`
     * needs `create:todos`, decided by the plugin nested inside. The same guard protects
     * `/plugin/mcp` with the plugin alone, to compare the answers.
     */
    private fun Application.whoamiBehindAuthentication(
        issuer: String,
        perToolScopes: Boolean = false,
    ) {
        install(ContentNegotiation) { json(McpJson) }
        val mcpAuth =
            McpAuth(
                ProtectedResource(
                    resource = resource,
                    authorizationServers = listOf(AuthorizationServer.Discovery(issuer, ServerType.OIDC)),
                    scopesSupported = listOf("read:todos", "create:todos"),
                ),
            )
        val guard =
            mcpAuth.bearerAuth(resource) {
                audience = resource
                requiredScopes = listOf("read:todos")
            }
        install(Authentication) {
            mcpBearer("mcp") { this.guard = guard }
        }
        val todos = Todos()
        routing {
            protectedResourceMetadata(mcpAuth)
            authenticate("mcp") {
                route("/mcp") {
                    if (perToolScopes) {
                        install(McpBearerAuth) {
                            this.guard =
                                mcpAuth.bearerAuth(resource) {
                                    audience = resource
                                    requiredScopes = listOf("read:todos")
                                    toolScopes = mapOf("add-todo" to listOf("create:todos"))
                                }
                        }
                    }
                    mcpEndpoint { whoamiMcpServer(call.principal<AuthInfo>()!!, todos) }
                }
                get("/me") {
                    val principal = call.principal<AuthInfo>("mcp")!!
                    call.respondText("${principal.subject} ${principal == call.authInfo}")
                }
            }
            bearerAuth(guard) {
                route("/plugin/mcp") { mcpEndpoint { whoamiMcpServer(call.authInfo!!, todos) } }
            }
        }
    }

    private fun json(result: CallToolResult): JsonObject = Json.parseToJsonElement((result.content[0] as TextContent).text).jsonObject

    private data class Exchange(
        val status: Int,
        val challenge: String?,
    )

    /** The Kotlin MCP SDK client on [url], sending `Bearer` [token]; every HTTP answer recorded in [seen]. */
    private fun client(
        url: String,
        token: () -> String,
        seen: MutableList<Exchange>,
    ): Pair<HttpClient, StreamableHttpClientTransport> {
        val http = HttpClient(ClientCIO)
        http.plugin(HttpSend).intercept { request ->
            val call = execute(request)
            seen += Exchange(call.response.status.value, call.response.headers[HttpHeaders.WWWAuthenticate])
            call
        }
        return http to StreamableHttpClientTransport(http, url, requestBuilder = { header(HttpHeaders.Authorization, "Bearer ${token()}") })
    }

    private fun rpc(
        url: String,
        authorization: String?,
    ): Response {
        val headers = mutableMapOf("Accept" to "application/json, text/event-stream", "Content-Type" to "application/json")
        authorization?.let { headers["Authorization"] = it }
        return Http.send(url, "POST", headers, """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""")
    }

    @Test
    fun `a tool behind authenticate sees the caller, as principal and as call authInfo`() {
        LocalIssuer().use { issuer ->
            KtorServer { whoamiBehindAuthentication(issuer.issuer) }.use { server ->
                val token = Tokens.accessToken(issuer.issuer, resource, "carol", "read:todos")
                val seen = CopyOnWriteArrayList<Exchange>()
                val (http, transport) = client("${server.url}/mcp", { token }, seen)
                val client = Client(Implementation(name = "provider", version = "1.0.0"))
                runBlocking {
                    client.connect(transport)
                    val me = json(client.callTool("whoami", emptyMap()))
                    assertEquals("carol", me["subject"]!!.jsonPrimitive.content)
                    assertEquals("client-1", me["clientId"]!!.jsonPrimitive.content)
                    assertEquals(listOf("read:todos"), me["scopes"].strings())
                    assertEquals(listOf(resource), me["audience"].strings())
                    client.close()
                }
                http.close()
                assertTrue(seen.isNotEmpty() && seen.all { it.status < 400 || it.status == 405 }, seen.toString())
                val me = Http.send("${server.url}/me", headers = mapOf("Authorization" to "Bearer $token"))
                assertEquals(200, me.status, me.body)
                assertEquals("carol true", me.body)
            }
        }
    }

    @Test
    fun `refused requests get the plugin's answers, before the MCP SDK runs`() {
        LocalIssuer().use { issuer ->
            KtorServer { whoamiBehindAuthentication(issuer.issuer) }.use { server ->
                val reader = Tokens.accessToken(issuer.issuer, resource, "carol", "read:todos")
                val cases =
                    listOf(
                        null,
                        "Bearer not-a-jwt",
                        "Basic Y2Fyb2w6cHc=",
                        "Bearer " + Tokens.accessToken(issuer.issuer, "https://other.example.com/mcp", "carol", "read:todos"),
                        "Bearer " + Tokens.accessToken("https://evil.example.com", resource, "carol", "read:todos"),
                        "Bearer " + Tokens.accessToken(issuer.issuer, resource, "carol", "create:todos"),
                        "Bearer $reader",
                    )
                val answers =
                    cases.map { authorization ->
                        val provider = rpc("${server.url}/mcp", authorization)
                        val plugin = rpc("${server.url}/plugin/mcp", authorization)
                        assertEquals(plugin.status, provider.status, "$authorization: ${provider.body}")
                        if (provider.status != 200) {
                            assertEquals(plugin.body, provider.body, authorization)
                            assertEquals(plugin.header("WWW-Authenticate"), provider.header("WWW-Authenticate"), authorization)
                        }
                        provider
                    }
                assertEquals(listOf(401, 401, 401, 401, 401, 403, 200), answers.map { it.status })

                // No credentials: no `error`, the scopes to ask for, where the metadata is.
                assertEquals("""Bearer scope="read:todos", resource_metadata="$prm"""", answers[0].header("WWW-Authenticate"))
                assertTrue(answers[1].header("WWW-Authenticate")!!.startsWith("Bearer error=\"invalid_token\""))
                assertTrue(answers[1].header("WWW-Authenticate")!!.endsWith("resource_metadata=\"$prm\""))
                assertEquals(
                    "invalid_audience",
                    answers[3]
                        .json.jsonObject["error"]!!
                        .jsonPrimitive.content,
                )
                assertEquals(
                    "invalid_issuer",
                    answers[4]
                        .json.jsonObject["error"]!!
                        .jsonPrimitive.content,
                )
                val scope = answers[5]
                assertEquals(
                    """Bearer error="insufficient_scope", error_description="$description", scope="read:todos", resource_metadata="$prm"""",
                    scope.header("WWW-Authenticate"),
                )
                assertEquals(
                    """{"error":"missing_required_scopes","error_description":"$description","missing_scopes":["read:todos"]}""",
                    scope.body,
                )
                // The one accepted request reached the MCP SDK, which answered the JSON-RPC call.
                assertNotNull(answers[6].json.jsonObject["result"], answers[6].body)
            }
        }
    }

    @Test
    fun `an authorization server that cannot be reached is a 500 without challenge, as with the plugin`() {
        val closedPort = ServerSocket(0, 1, InetAddress.getByName("127.0.0.1")).use { it.localPort }
        val down = "http://127.0.0.1:$closedPort"
        KtorServer { whoamiBehindAuthentication(down) }.use { server ->
            val token = "Bearer " + Tokens.accessToken(down, resource, "carol", "read:todos")
            val provider = rpc("${server.url}/mcp", token)
            val plugin = rpc("${server.url}/plugin/mcp", token)
            assertEquals(500, provider.status, provider.body)
            assertEquals(
                """{"error":"server_error","error_description":"An error occurred with the authorization server."}""",
                provider.body,
            )
            assertNull(provider.header("WWW-Authenticate"))
            assertEquals(plugin.status to plugin.body, provider.status to provider.body)
        }
    }

    @Test
    fun `per-tool scopes inside authenticate answer 403 before the tool runs, and the client steps up`() {
        LocalIssuer().use { issuer ->
            KtorServer { whoamiBehindAuthentication(issuer.issuer, perToolScopes = true) }.use { server ->
                var token = Tokens.accessToken(issuer.issuer, resource, "carol", "read:todos")
                val seen = CopyOnWriteArrayList<Exchange>()
                val (http, transport) = client("${server.url}/mcp", { token }, seen)
                val client = Client(Implementation(name = "step-up", version = "1.0.0"))
                runBlocking {
                    client.connect(transport)
                    assertEquals("carol", json(client.callTool("whoami", emptyMap()))["subject"]!!.jsonPrimitive.content)

                    val failure = runCatching { client.callTool("add-todo", mapOf("content" to "milk")) }.exceptionOrNull()
                    assertNotNull(failure, "add-todo ran without create:todos")
                    assertEquals(
                        """Bearer error="insufficient_scope", error_description="$description", scope="read:todos create:todos", resource_metadata="$prm"""",
                        seen.single { it.status == 403 }.challenge,
                    )

                    token = Tokens.accessToken(issuer.issuer, resource, "carol", "read:todos create:todos")
                    val todo = json(client.callTool("add-todo", mapOf("content" to "milk")))
                    // The first todo: the refused call never reached the tool.
                    assertEquals(
                        listOf("todo-1", "milk", "carol"),
                        listOf("id", "content", "ownerId").map { todo[it]!!.jsonPrimitive.content },
                    )
                    client.close()
                }
                http.close()
            }
        }
    }

    @Test
    fun `optional authentication lets anonymous calls through, never a bad token`() {
        LocalIssuer().use { issuer ->
            val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(issuer.issuer, ServerType.OIDC))))
            KtorServer {
                install(Authentication) {
                    mcpBearer("mcp") { guard = mcpAuth.bearerAuth(resource) { audience = resource } }
                }
                routing {
                    authenticate("mcp", optional = true) {
                        get("/hello") { call.respondText("hello ${call.principal<AuthInfo>()?.subject ?: "anonymous"}") }
                    }
                }
            }.use { server ->
                assertEquals("hello anonymous", Http.send("${server.url}/hello").body)
                val token = Tokens.accessToken(issuer.issuer, resource, "carol", "read")
                assertEquals("hello carol", Http.send("${server.url}/hello", headers = mapOf("Authorization" to "Bearer $token")).body)
                val bad = Http.send("${server.url}/hello", headers = mapOf("Authorization" to "Bearer not-a-jwt"))
                assertEquals(401, bad.status, bad.body)
                assertTrue(bad.header("WWW-Authenticate")!!.startsWith("Bearer error=\"invalid_token\""))
            }
        }
    }

    @Test
    fun `a guard with per-operation rules, or none, is refused when the provider is registered`() {
        val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery("https://issuer.example.com"))))
        val rules =
            mcpAuth.bearerAuth(resource) {
                audience = resource
                toolScopes = mapOf("add-todo" to listOf("create:todos"))
            }
        val refused =
            assertThrows<IllegalArgumentException> {
                KtorServer { install(Authentication) { mcpBearer("mcp") { guard = rules } } }.close()
            }
        assertTrue(refused.message!!.startsWith("mcpBearer(\"mcp\"): the guard has per-operation rules"), refused.message)
        assertTrue(refused.message!!.contains("install(McpBearerAuth)"), refused.message)

        val none = assertThrows<IllegalArgumentException> { KtorServer { install(Authentication) { mcpBearer { } } }.close() }
        assertEquals("mcpBearer() needs a guard: `guard = mcpAuth.bearerAuth(resource)`.", none.message)
    }
}
