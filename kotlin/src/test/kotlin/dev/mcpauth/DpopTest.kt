package dev.mcpauth

import dev.mcpauth.ktor.McpBearerAuth
import dev.mcpauth.ktor.authInfo
import dev.mcpauth.ktor.mcpBearer
import dev.mcpauth.ktor.protectedResourceMetadata
import io.ktor.server.application.install
import io.ktor.server.auth.Authentication
import io.ktor.server.auth.authenticate
import io.ktor.server.response.respondText
import io.ktor.server.routing.post
import io.ktor.server.routing.route
import io.ktor.server.routing.routing
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.double
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.http.HttpResponse
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/** A `redis-server` of this test on a free port of 127.0.0.1; `null` when none is installed. */
class RedisServer private constructor(
    private val process: Process,
    val port: Int,
    private val dir: File,
) : AutoCloseable {
    val url: String get() = "redis://127.0.0.1:$port/0"

    override fun close() {
        process.destroy()
        process.waitFor()
        dir.deleteRecursively()
    }

    companion object {
        fun start(): RedisServer? {
            val bin =
                System
                    .getenv("PATH")
                    .orEmpty()
                    .split(':')
                    .map { File(it, "redis-server") }
                    .firstOrNull(File::canExecute) ?: return null
            val port = ServerSocket(0, 0, java.net.InetAddress.getByName("127.0.0.1")).use { it.localPort }
            val dir =
                kotlin.io.path
                    .createTempDirectory("mcp-auth-redis")
                    .toFile()
            val process =
                ProcessBuilder(bin.path, "--port", "$port", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.path)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start()
            // Until it answers PING: a readiness wait, not a timing assertion.
            val deadline = System.nanoTime() + 20_000_000_000L
            while (System.nanoTime() < deadline) {
                val pong =
                    runCatching {
                        Socket().use { s ->
                            s.connect(InetSocketAddress("127.0.0.1", port), 1000)
                            s.getOutputStream().write("PING\r\n".toByteArray())
                            String(s.getInputStream().readNBytes(7))
                        }
                    }.getOrNull()
                if (pong == "+PONG\r\n") return RedisServer(process, port, dir)
                Thread.sleep(20)
            }
            process.destroy()
            dir.deleteRecursively()
            error("redis-server on port $port never answered")
        }
    }
}

/**
 * DPoP on the Kotlin API beyond the vectors: a Redis replay store, `DPoP-Nonce` on accepted
 * requests, the two challenge lines of a 401, configuration refused when the guard is built,
 * `call.authInfo.jkt`, and the `mcpBearer` authentication provider. Proofs and tokens are the
 * vectors' (tests/vectors/dpop.json), sent at each case's pinned "now".
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DpopTest {
    private val vectors = Vectors.load("dpop.json")
    private val resource = vectors["resource"]!!.jsonPrimitive.content
    private val keys = JsonServer()

    private val serverConfig: AuthServerConfig =
        run {
            keys.serve("/jwks.json", vectors["jwks"].toString())
            val metadata = vectors["metadata"]!!.jsonObject.toMutableMap()
            metadata["jwks_uri"] = JsonPrimitive("${keys.url}/jwks.json")
            AuthServerConfig.fromJson(JsonObject(metadata), ServerType.OIDC)
        }

    private fun mcpAuth() = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Metadata(serverConfig)), listOf("read")))

    private fun case(name: String): JsonObject =
        (vectors["cases"] as JsonArray).map { it.jsonObject }.single { it["name"]!!.jsonPrimitive.content == name }

    private fun now(c: JsonObject) = c["now"]!!.jsonPrimitive.double

    /** The case's request against [url] (the route's path is the case's). */
    private fun send(
        url: String,
        c: JsonObject,
    ): HttpResponse<String> {
        val r = c["request"]!!.jsonObject
        return DpopHttp.send(
            url + r["path"]!!.jsonPrimitive.content,
            r["method"]!!.jsonPrimitive.content,
            r["authorization"].stringOrNull(),
            r["dpop"].strings()!!,
        )
    }

    /** A real Ktor server whose `/mcp` routes are guarded by [guard] and answer the caller. */
    private fun serve(
        guard: BearerAuth,
        test: (url: String) -> Unit,
    ) = KtorServer {
        routing {
            route("/mcp") {
                install(McpBearerAuth) { this.guard = guard }
                echoCaller()
            }
        }
    }.use { test(it.url) }

    @AfterAll
    fun stop() = keys.close()

    @Test
    fun `a 401 of an allowed route offers both schemes, one WWW-Authenticate line each`() {
        val guard = mcpAuth().bearerAuth(resource) { dpop { mode = DpopMode.ALLOWED } }
        serve(guard) { url ->
            val r = DpopHttp.send("$url/mcp", "POST", null, emptyList())
            assertEquals(401, r.statusCode())
            val lines = r.headers().allValues("WWW-Authenticate")
            val metadata = vectors["resource_metadata"]!!.jsonPrimitive.content
            assertEquals(
                listOf(
                    "Bearer resource_metadata=\"$metadata\"",
                    "DPoP algs=\"ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512\", resource_metadata=\"$metadata\"",
                ),
                lines,
            )
        }
    }

    @Test
    fun `call authInfo jkt is the key thumbprint of a DPoP call and null for a bearer token`() {
        val bound = case("ES256 proof with a bound token")
        val bearer = case("unbound bearer token on an allowed route")
        for (c in listOf(bound, bearer)) {
            val guard = mcpAuth().bearerAuth(resource) { dpopFrom(c["dpop"]!!.jsonObject, now(c)) }
            serve(guard) { url ->
                val r = send(url, c)
                assertEquals(200, r.statusCode(), r.body())
                val jkt = Json.parseToJsonElement(r.body()).jsonObject["jkt"]
                assertEquals(c["expect"]!!.jsonObject["auth_info"]!!.jsonObject["jkt"], jkt)
            }
        }
        assertTrue(bound["expect"]!!.jsonObject["auth_info"]!!.jsonObject["jkt"] !is JsonNull)
    }

    @Test
    fun `an accepted request's answer carries a fresh DPoP-Nonce when nonces are on`() {
        for (name in listOf("nonces on: a valid nonce", "nonces on: a bearer request gets a nonce too")) {
            val c = case(name)
            val secret = c["dpop"]!!.jsonObject["nonce_secret"]!!.jsonPrimitive.content
            val guard = mcpAuth().bearerAuth(resource) { dpopFrom(c["dpop"]!!.jsonObject, now(c)) }
            serve(guard) { url ->
                val r = send(url, c)
                assertEquals(200, r.statusCode(), r.body())
                val nonces = r.headers().allValues("DPoP-Nonce")
                assertEquals(1, nonces.size, "$nonces")
                assertEquals(kotlin.math.floor(now(c)).toLong(), DpopHttp.nonceIssuedAt(nonces.single(), secret))
                // The handler ran: the answer is the caller.
                assertEquals(
                    "user-1",
                    Json
                        .parseToJsonElement(r.body())
                        .jsonObject["subject"]!!
                        .jsonPrimitive.content,
                )
            }
        }
    }

    @Test
    fun `a Redis replay store refuses a proof seen before, and answers 503 while Redis is down`() {
        val redis = RedisServer.start()
        assumeTrue(redis != null, "redis-server is not installed (Debian: apt-get install redis-server; `make redis-server`)")
        val twice = case("the same proof twice")
        val fresh = case("ES256 proof with a bound token")
        val auth = mcpAuth()

        fun guard(
            c: JsonObject,
            failOpen: Boolean = false,
        ) = auth.bearerAuth(resource) {
            showErrorDetails = c["show_error_details"]!!.jsonPrimitive.content.toBoolean()
            dpopFrom(c["dpop"]!!.jsonObject, now(c))
            dpop!!.replayStore = redis!!.url
            dpop!!.replayKeyPrefix = "kotlin-test:${System.nanoTime()}:"
            dpop!!.replayFailOpen = failOpen
        }
        redis!!.use {
            serve(guard(twice)) { url ->
                assertEquals(200, send(url, twice).statusCode())
                val again = send(url, twice)
                assertEquals(
                    twice["expect"]!!
                        .jsonObject["status"]!!
                        .jsonPrimitive.content
                        .toInt(),
                    again.statusCode(),
                )
                assertEquals(twice["expect"]!!.jsonObject["body"], Json.parseToJsonElement(again.body()))
            }
        }
        // Redis stopped: the proof cannot be recorded, so it is refused, unless the route fails open.
        serve(guard(fresh)) { url ->
            val r = send(url, fresh)
            assertEquals(503, r.statusCode(), r.body())
            assertEquals(
                "temporarily_unavailable",
                Json
                    .parseToJsonElement(r.body())
                    .jsonObject["error"]!!
                    .jsonPrimitive.content,
            )
            assertTrue(r.headers().allValues("WWW-Authenticate").isEmpty())
        }
        serve(guard(fresh, failOpen = true)) { url -> assertEquals(200, send(url, fresh).statusCode()) }
    }

    @Test
    fun `bad DPoP settings are refused when the guard is built, naming the Kotlin option`() {
        fun refused(configure: DpopConfig.() -> Unit): ConfigException {
            val e = assertThrows<ConfigException> { mcpAuth().bearerAuth(resource) { dpop(configure) } }
            assertEquals("invalid_dpop_config", e.code, e.toString())
            return e
        }
        assertTrue(refused { nonce = true }.message.contains("`nonceSecret`"))
        assertTrue(refused { iatWindow = Duration.ZERO }.message.contains("`iatWindow` must be more than 0"))
        assertTrue(refused { iatWindow = Duration.INFINITE }.message.contains("`iatWindow` must be a finite duration"))
        assertTrue(refused { algorithms = listOf("HS256") }.message.contains("symmetric"))
        assertTrue(refused { replayStore = "disk" }.message.contains("`replayStore`"))
        assertTrue(refused { replayMaxEntries = 0 }.message.contains("`replayMaxEntries`"))
        assertTrue(
            refused {
                nonce = true
                nonceSecret = "short"
            }.message.contains("at least 32 bytes"),
        )

        // A verifier of the application's own takes bearer tokens only.
        val e =
            assertThrows<ConfigException> {
                mcpAuth().bearerAuth(resource, { _: String -> error("not called") }) { dpop { mode = DpopMode.ALLOWED } }
            }
        assertEquals("invalid_dpop_config", e.code)

        // One metadata document per resource: its DPoP guards must agree on what it advertises.
        val auth = mcpAuth()
        auth.bearerAuth(resource) { dpop { mode = DpopMode.REQUIRED } }
        auth.bearerAuth(resource) {
            dpop {
                mode = DpopMode.REQUIRED
                nonce = true
                nonceSecret = "x".repeat(32)
            }
        }
        val other = assertThrows<ConfigException> { auth.bearerAuth(resource) { dpop { mode = DpopMode.ALLOWED } } }
        assertTrue(other.message.contains("same `mode` and `algorithms`"), other.message)
    }

    @Test
    fun `the metadata document advertises the DPoP settings of the resource's guards`() {
        val auth = mcpAuth()
        val before = Json.parseToJsonElement(auth.metadataDocument(resource)).jsonObject
        assertNull(before["dpop_bound_access_tokens_required"])
        val guard =
            auth.bearerAuth(resource) {
                dpop {
                    mode = DpopMode.REQUIRED
                    algorithms = listOf("ES256")
                }
            }
        KtorServer {
            routing {
                // Mounted before the guard's route is: the document is read per request.
                protectedResourceMetadata(auth)
                route("/mcp") { install(McpBearerAuth) { this.guard = guard } }
            }
        }.use { s ->
            val doc = Http.send(s.url + auth.metadataPath(resource)).json.jsonObject
            assertEquals(JsonArray(listOf(JsonPrimitive("ES256"))), doc["dpop_signing_alg_values_supported"])
            assertEquals(JsonPrimitive(true), doc["dpop_bound_access_tokens_required"])
        }
    }

    @Test
    fun `readme, nonces and a Redis replay store on the real clock`() {
        val redis = RedisServer.start()
        assumeTrue(redis != null, "redis-server is not installed (Debian: apt-get install redis-server; `make redis-server`)")
        val resource = "https://api.example.com/mcp"
        val nonceSecret = "a secret of at least 32 bytes, the same on every replica"
        val key = DpopClientKey()
        redis!!.use {
            LocalIssuer().use { issuer ->
                val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(issuer.issuer, ServerType.OIDC))))
                val redisUrl = redis.url
                KtorServer {
                    routing {
                        protectedResourceMetadata(mcpAuth)
                        route("/mcp") {
                            install(McpBearerAuth) {
                                guard =
                                    mcpAuth.bearerAuth(resource) {
                                        audience = resource
                                        dpop {
                                            mode = DpopMode.ALLOWED
                                            algorithms = listOf("ES256", "EdDSA")
                                            nonce = true
                                            this.nonceSecret = nonceSecret
                                            replayStore = redisUrl
                                        }
                                    }
                            }
                            post {
                                // The key thumbprint of a DPoP call; null for a bearer token.
                                call.respondText("jkt=${call.authInfo!!.jkt}")
                            }
                        }
                    }
                }.use { server ->
                    val token =
                        Tokens.sign(
                            buildJsonObject {
                                put("iss", issuer.issuer)
                                put("sub", "alice")
                                put("aud", resource)
                                put("iat", System.currentTimeMillis() / 1000 - 10)
                                put("exp", System.currentTimeMillis() / 1000 + 600)
                                put("cnf", buildJsonObject { put("jkt", key.thumbprint) })
                            },
                        )
                    val url = "${server.url}/mcp"
                    // First without a nonce: 401 use_dpop_nonce, with the nonce to use.
                    val first = DpopHttp.send(url, "POST", "DPoP $token", listOf(key.proof("POST", resource, token)))
                    assertEquals(401, first.statusCode(), first.body())
                    assertEquals(
                        "use_dpop_nonce",
                        Json
                            .parseToJsonElement(first.body())
                            .jsonObject["error"]!!
                            .jsonPrimitive.content,
                    )
                    val issued = first.headers().firstValue("DPoP-Nonce").get()
                    assertTrue(issued.isNotEmpty())
                    val proof = key.proof("POST", resource, token, issued)
                    val ok = DpopHttp.send(url, "POST", "DPoP $token", listOf(proof))
                    assertEquals(200, ok.statusCode(), ok.body())
                    assertEquals("jkt=${key.thumbprint}", ok.body())
                    assertEquals(1, ok.headers().allValues("DPoP-Nonce").size)
                    // Recorded in Redis: a second guard (another replica) refuses the same proof.
                    val replica =
                        mcpAuth.bearerAuth(resource) {
                            audience = resource
                            dpop {
                                mode = DpopMode.ALLOWED
                                algorithms = listOf("ES256", "EdDSA")
                                nonce = true
                                this.nonceSecret = nonceSecret
                                replayStore = redisUrl
                            }
                        }
                    val again =
                        runBlocking {
                            replica.authenticate(McpHttpRequest("POST", authorization = "DPoP $token", dpop = listOf(proof), path = "/mcp"))
                        }
                    assertEquals(401, (again as AuthResult.Rejected).status)
                    assertEquals("invalid_dpop_proof", again.error.code)
                    val metadata = Http.send(server.url + mcpAuth.metadataPath(resource)).json.jsonObject
                    assertEquals(
                        JsonArray(listOf(JsonPrimitive("ES256"), JsonPrimitive("EdDSA"))),
                        metadata["dpop_signing_alg_values_supported"],
                    )
                }
            }
        }
    }

    @Test
    fun `the provider around a route with the plugin takes the caller the plugin accepted`() {
        fun stacked(
            c: JsonObject,
            providerScopes: List<String>,
            test: (url: String) -> Unit,
        ) {
            val auth = mcpAuth()
            val provider =
                auth.bearerAuth(resource) {
                    requiredScopes = providerScopes
                    dpopFrom(c["dpop"]!!.jsonObject, now(c))
                }
            val plugin = auth.bearerAuth(resource) { dpopFrom(c["dpop"]!!.jsonObject, now(c)) }
            KtorServer {
                install(Authentication) { mcpBearer("mcp") { guard = provider } }
                routing {
                    authenticate("mcp") {
                        route("/mcp") {
                            install(McpBearerAuth) { guard = plugin }
                            echoCaller()
                        }
                    }
                }
            }.use { test(it.url) }
        }
        // Both guards with nonces: one proof, checked once, one DPoP-Nonce.
        val c = case("nonces on: a valid nonce")
        stacked(c, emptyList()) { url ->
            val ok = send(url, c)
            assertEquals(200, ok.statusCode(), ok.body())
            assertEquals(c["expect"]!!.jsonObject["auth_info"]!!.jsonObject["jkt"], Json.parseToJsonElement(ok.body()).jsonObject["jkt"])
            assertEquals(1, ok.headers().allValues("DPoP-Nonce").size)
            // The proof was recorded once: sent again, the plugin refuses it.
            assertEquals(401, send(url, c).statusCode())
        }
        // The provider's own policy still decides.
        val bound = case("ES256 proof with a bound token")
        stacked(bound, listOf("admin")) { url ->
            val r = send(url, bound)
            assertEquals(403, r.statusCode(), r.body())
            assertEquals(listOf("DPoP"), r.headers().allValues("WWW-Authenticate").map { it.substringBefore(' ') })
        }
    }

    @Test
    fun `the mcpBearer authentication provider takes DPoP too`() {
        val c = case("ES256 proof with a bound token")
        val guard = mcpAuth().bearerAuth(resource) { dpopFrom(c["dpop"]!!.jsonObject, now(c)) }
        KtorServer {
            install(Authentication) { mcpBearer("mcp") { this.guard = guard } }
            routing {
                authenticate("mcp") { route("/mcp") { echoCaller() } }
            }
        }.use { s ->
            val ok = send(s.url, c)
            assertEquals(200, ok.statusCode(), ok.body())
            assertEquals(
                c["expect"]!!.jsonObject["auth_info"]!!.jsonObject["jkt"],
                Json.parseToJsonElement(ok.body()).jsonObject["jkt"],
            )
            val none = DpopHttp.send("${s.url}/mcp", "POST", null, emptyList())
            assertEquals(401, none.statusCode())
            assertEquals(2, none.headers().allValues("WWW-Authenticate").size)
            // The proof was recorded: the same one again is a replay.
            val again = send(s.url, c)
            assertEquals(401, again.statusCode())
            assertEquals(
                "invalid_dpop_proof",
                Json
                    .parseToJsonElement(again.body())
                    .jsonObject["error"]!!
                    .jsonPrimitive.content,
            )
        }
    }
}
