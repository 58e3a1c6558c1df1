package dev.mcpauth

import dev.mcpauth.ktor.authInfo
import dev.mcpauth.ktor.bearerAuth
import dev.mcpauth.ktor.mcpOperations
import dev.mcpauth.ktor.protectedResourceMetadata
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.ApplicationCallPipeline
import io.ktor.server.request.receive
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.net.ServerSocket

/** The Ktor integration against a real issuer on 127.0.0.1: discovery, answers, metadata, failures. */
class KtorGuardTest {
    private val resource = "https://api.example.com/notes"
    private val prm = "https://api.example.com/.well-known/oauth-protected-resource/notes"

    private class Boom : RuntimeException("from the handler")

    private fun app(
        mcpAuth: McpAuth,
        configure: BearerAuthConfig.() -> Unit = { audience = "https://api.example.com/notes" },
    ) = KtorServer {
        intercept(ApplicationCallPipeline.Monitoring) {
            try {
                proceed()
            } catch (e: Boom) {
                context.respondText("caught: ${e.message}", status = HttpStatusCode.fromValue(418))
            }
        }
        routing {
            protectedResourceMetadata(mcpAuth)
            bearerAuth(mcpAuth.bearerAuth(resource, configure)) {
                get("/notes") {
                    val me = call.authInfo!!
                    call.respondText("${me.subject} ${me.scopes.joinToString(" ")}")
                }
                get("/boom") { throw Boom() }
            }
            get("/public") { call.respondText("public ${call.authInfo}") }
        }
    }

    @Test
    fun `discovers the issuer on first use and hands the caller to the handler`() {
        LocalIssuer().use { issuer ->
            val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(issuer.issuer, ServerType.OIDC))))
            app(mcpAuth).use { server ->
                val token = Tokens.accessToken(issuer.issuer, resource, "alice", "read write")
                repeat(2) {
                    val r = Http.send("${server.url}/notes", headers = mapOf("Authorization" to "Bearer $token"))
                    assertEquals(200, r.status, r.body)
                    assertEquals("alice read write", r.body)
                }
                // One discovery and one key fetch, cached afterwards.
                assertEquals(listOf("/.well-known/openid-configuration", "/jwks.json"), issuer.requests)
                assertEquals("public null", Http.send("${server.url}/public").body)
            }
        }
    }

    @Test
    fun `concurrent first requests all pass through the async path`() {
        LocalIssuer().use { issuer ->
            val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(issuer.issuer, ServerType.OIDC))))
            val guard = mcpAuth.bearerAuth(resource) { audience = resource }
            val results =
                runBlocking(Dispatchers.Default) {
                    (1..32)
                        .map { i ->
                            async { guard.authenticate("Bearer " + Tokens.accessToken(issuer.issuer, resource, "user-$i", "read")) }
                        }.awaitAll()
                }
            assertEquals((1..32).map { "user-$it" }, results.map { (it as AuthResult.Authenticated).authInfo.subject })
        }
    }

    @Test
    fun `missing scopes are a 403 with the scope challenge`() {
        LocalIssuer().use { issuer ->
            val config = runBlocking { fetchServerConfig(issuer.issuer, ServerType.OIDC) }
            val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Metadata(config))))
            app(mcpAuth) {
                audience = resource
                requiredScopes = listOf("read", "admin")
            }.use { server ->
                val token = Tokens.accessToken(issuer.issuer, resource, "alice", "read write")
                val r = Http.send("${server.url}/notes", headers = mapOf("Authorization" to "Bearer $token"))
                assertEquals(403, r.status)
                val description = "The token does not contain the necessary scopes for this request."
                assertEquals(
                    """Bearer error="insufficient_scope", error_description="$description", scope="read admin", resource_metadata="$prm"""",
                    r.header("WWW-Authenticate"),
                )
                assertEquals(
                    """{"error":"missing_required_scopes","error_description":"$description","missing_scopes":["admin"]}""",
                    r.body,
                )
            }
        }
    }

    @Test
    fun `a token for another resource or issuer is refused`() {
        LocalIssuer().use { issuer ->
            val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(issuer.issuer, ServerType.OIDC))))
            app(mcpAuth).use { server ->
                val other = Tokens.accessToken(issuer.issuer, "https://other.example.com", "alice", "read")
                val r = Http.send("${server.url}/notes", headers = mapOf("Authorization" to "Bearer $other"))
                assertEquals(401, r.status)
                assertEquals(
                    "invalid_audience",
                    r.json.jsonObject["error"]!!
                        .jsonPrimitive.content,
                )
                val forged = Tokens.accessToken("https://evil.example.com", resource, "alice", "read")
                val f = Http.send("${server.url}/notes", headers = mapOf("Authorization" to "Bearer $forged"))
                assertEquals(401, f.status)
                assertEquals(
                    "invalid_issuer",
                    f.json.jsonObject["error"]!!
                        .jsonPrimitive.content,
                )
                assertTrue(f.header("WWW-Authenticate")!!.startsWith("Bearer error=\"invalid_token\""))
            }
        }
    }

    @Test
    fun `an unreachable authorization server is a 500 without challenge`() {
        val closedPort = ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1")).use { it.localPort }
        val down = "http://127.0.0.1:$closedPort"
        val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(down, ServerType.OIDC))))
        app(mcpAuth).use { server ->
            val token = Tokens.accessToken(down, resource, "alice", "read")
            val r = Http.send("${server.url}/notes", headers = mapOf("Authorization" to "Bearer $token"))
            assertEquals(500, r.status)
            assertEquals("""{"error":"server_error","error_description":"An error occurred with the authorization server."}""", r.body)
            assertNull(r.header("WWW-Authenticate"))
        }
    }

    @Test
    fun `exceptions of the handler pass through untouched`() {
        LocalIssuer().use { issuer ->
            val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(issuer.issuer, ServerType.OIDC))))
            app(mcpAuth).use { server ->
                val token = Tokens.accessToken(issuer.issuer, resource, "alice", "read")
                val r = Http.send("${server.url}/boom", headers = mapOf("Authorization" to "Bearer $token"))
                assertEquals(418, r.status)
                assertEquals("caught: from the handler", r.body)
            }
        }
    }

    @Test
    fun `metadata is served with CORS at the resource's well-known path`() {
        val mcpAuth =
            McpAuth(
                ProtectedResource(
                    resource,
                    listOf(AuthorizationServer.Discovery("https://issuer.example.com")),
                    scopesSupported = listOf("read", "write"),
                    metadata = JsonObject(mapOf("resource_name" to JsonPrimitive("Notes"))),
                ),
            )
        app(mcpAuth).use { server ->
            val path = "/.well-known/oauth-protected-resource/notes"
            assertEquals(path, mcpAuth.metadataPath(resource))
            val r = Http.send("${server.url}$path", headers = mapOf("Origin" to "https://app.example.com"))
            assertEquals(200, r.status)
            assertEquals("*", r.header("Access-Control-Allow-Origin"))
            assertEquals("application/json", r.header("Content-Type")!!.substringBefore(';'))
            assertEquals(
                """{"resource":"$resource","resource_name":"Notes","scopes_supported":["read","write"],""" +
                    """"authorization_servers":["https://issuer.example.com"]}""",
                r.body,
            )
            val preflight = Http.send("${server.url}$path", method = "OPTIONS", headers = mapOf("Origin" to "https://app.example.com"))
            assertEquals(204, preflight.status)
            assertEquals("GET, OPTIONS", preflight.header("Access-Control-Allow-Methods"))
            // Without a token the protected route answers the challenge naming this document.
            val r401 = Http.send("${server.url}/notes")
            assertEquals(401, r401.status)
            assertEquals("""Bearer resource_metadata="$prm"""", r401.header("WWW-Authenticate"))
        }
    }

    @Test
    fun `fetched metadata is typed and validated, a wrong issuer is refused`() {
        LocalIssuer().use { issuer ->
            val config = runBlocking { fetchServerConfig(issuer.issuer, ServerType.OIDC) }
            assertEquals(issuer.issuer, config.issuer)
            assertEquals(ServerType.OIDC, config.type)
            assertEquals("${issuer.issuer}/jwks.json", config.metadata["jwks_uri"]!!.jsonPrimitive.content)
            assertTrue(config.validate().isValid)
        }
        LocalIssuer { "https://someone-else.example.com" }.use { issuer ->
            val e = assertThrows<McpAuthException> { runBlocking { fetchServerConfig(issuer.issuer, ServerType.OIDC) } }
            assertEquals("invalid_server_metadata", e.code, e.toString())
        }
        val e = assertThrows<ConfigException> { runBlocking { fetchServerConfig("http://127.0.0.1:1", ServerType.OAUTH) } }
        assertEquals("fetch_server_config_error", e.code)
    }

    @Test
    fun `configurations the packages refuse are refused`() {
        val unfit =
            AuthServerConfig.fromJson(
                """{"issuer":"https://issuer.example.com","authorization_endpoint":"https://issuer.example.com/a",""" +
                    """"token_endpoint":"https://issuer.example.com/t","response_types_supported":["token"]}""",
                ServerType.OAUTH,
            )
        val e = assertThrows<AuthServerException> { McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Metadata(unfit)))) }
        assertEquals("invalid_server_config", e.code)
        val errors =
            e.details.cause!!
                .jsonObject["errors"]!!
                .jsonArray
                .map { it.jsonObject["code"]!!.jsonPrimitive.content }
        assertTrue("code_response_type_not_supported" in errors, errors.toString())

        val none = assertThrows<AuthServerException> { McpAuth(emptyList()) }
        assertEquals(
            "No authorization server or protected resource metadata is provided.",
            none.details.cause!!
                .jsonObject["error_description"]!!
                .jsonPrimitive.content,
        )

        val mcpAuth = McpAuth(ProtectedResource(resource, emptyList()))
        val unknown = assertThrows<AuthServerException> { mcpAuth.bearerAuth("https://unknown.example.com") }
        assertEquals("invalid_server_config", unknown.code)
        assertTrue(Json.encodeToString(JsonObject.serializer(), unknown.details.toJson()).contains("unknown.example.com"))
    }

    @Test
    fun `a guard with its own verifier decides per operation too, and handlers read the same bytes`() {
        val issuer = "https://issuer.example.com"
        val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(issuer))))
        val scopes = mapOf("reader" to listOf("read"), "writer" to listOf("read", "create:todos"), "admin" to listOf("todos:admin"))
        val verify: suspend (String) -> AuthInfo = { token ->
            AuthInfo(token = token, issuer = issuer, subject = "alice", scopes = scopes.getValue(token), audience = listOf(resource))
        }
        val guard =
            mcpAuth.bearerAuth(resource, verify) {
                audience = resource
                toolScopes = mapOf("add-todo" to listOf("create:todos"))
                scopeHierarchy = mapOf("todos:admin" to listOf("create:todos"))
            }
        KtorServer {
            routing {
                bearerAuth(guard) {
                    post("/mcp") {
                        // Twice: both times the bytes the guard read.
                        val first = call.receive<ByteArray>()
                        val again = call.receive<ByteArray>()
                        call.respondText("${call.mcpOperations} ${first.contentEquals(again)} ${first.decodeToString()}")
                    }
                }
            }
        }.use { server ->
            val add = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo","arguments":{"content":"é"}}}"""

            fun post(
                token: String,
                body: String,
            ) = Http.send(
                "${server.url}/mcp",
                "POST",
                mapOf("Authorization" to "Bearer $token", "Content-Type" to "application/json"),
                body,
            )

            val refused = post("reader", add)
            assertEquals(403, refused.status, refused.body)
            val description = "The token does not contain the necessary scopes for this request."
            assertEquals(
                """Bearer error="insufficient_scope", error_description="$description", scope="create:todos", resource_metadata="$prm"""",
                refused.header("WWW-Authenticate"),
            )
            val lenient = post("writer", add.replace("\"name\"", "name"))
            assertEquals(400, lenient.status, lenient.body)
            assertEquals(
                -32700,
                lenient.json.jsonObject["error"]!!
                    .jsonObject["code"]!!
                    .jsonPrimitive.content
                    .toInt(),
            )
            for (token in listOf("writer", "admin")) {
                val ok = post(token, add)
                assertEquals(200, ok.status, ok.body)
                assertEquals("[McpOperation(method=tools/call, name=add-todo)] true $add", ok.body)
            }
        }
    }
}
