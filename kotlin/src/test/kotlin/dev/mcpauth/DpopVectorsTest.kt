package dev.mcpauth

import dev.mcpauth.ktor.McpBearerAuth
import dev.mcpauth.ktor.authInfo
import dev.mcpauth.ktor.protectedResourceMetadata
import io.ktor.http.ContentType
import io.ktor.server.response.respondText
import io.ktor.server.routing.Route
import io.ktor.server.routing.route
import io.ktor.server.routing.routing
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.double
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.ByteBuffer
import java.util.Base64
import javax.crypto.Cipher
import javax.crypto.Mac
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** A vector's snake_case `dpop` settings in the Kotlin spelling; a member this runner does not know fails the case. */
fun BearerAuthConfig.dpopFrom(
    settings: JsonObject,
    now: Double? = null,
) {
    dpop {
        for ((member, value) in settings) {
            if (value is JsonNull) continue
            val p = value as? JsonPrimitive
            when (member) {
                "mode" -> {
                    mode = DpopMode.valueOf(p!!.content.uppercase())
                }

                "algorithms" -> {
                    algorithms = value.strings()
                }

                "iat_window" -> {
                    iatWindow = p!!.double.seconds
                }

                "leeway" -> {
                    leeway = p!!.double.seconds
                }

                "nonce_secret" -> {
                    nonce = true
                    nonceSecret = p!!.content
                }

                "nonce_window" -> {
                    nonceWindow = p!!.double.seconds
                }

                "replay_store" -> {
                    replayStore = p!!.content
                }

                "replay_max_entries" -> {
                    replayMaxEntries = p!!.int
                }

                "replay_timeout_ms" -> {
                    replayTimeout = p!!.long.milliseconds
                }

                "replay_fail_open" -> {
                    replayFailOpen = p!!.boolean
                }

                "replay_key_prefix" -> {
                    replayKeyPrefix = p!!.content
                }

                else -> {
                    error("unknown DPoP member `$member`")
                }
            }
        }
        now?.let { clock = { it } }
    }
}

/** The answer to a request with several field lines of one header: the JDK client sends each as given. */
object DpopHttp {
    private val client: HttpClient = HttpClient.newHttpClient()

    fun send(
        url: String,
        method: String,
        authorization: String?,
        proofs: List<String>,
        extra: Map<String, String> = emptyMap(),
    ): HttpResponse<String> {
        val request = HttpRequest.newBuilder(URI(url)).timeout(java.time.Duration.ofSeconds(30))
        authorization?.let { request.header("Authorization", it) }
        proofs.forEach { request.header("DPoP", it) }
        extra.forEach { (k, v) -> request.header(k, v) }
        request.method(method, HttpRequest.BodyPublishers.noBody())
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString())
    }

    /** When a `DPoP-Nonce` was issued, opened as tests/vectors/README.md specifies; `null` if it does not open. */
    fun nonceIssuedAt(
        nonce: String,
        secret: String,
    ): Long? {
        val label = "mcp-auth dpop nonce".toByteArray()

        fun hmac(
            key: ByteArray,
            data: ByteArray,
        ): ByteArray = Mac.getInstance("HmacSHA256").apply { init(SecretKeySpec(key, "HmacSHA256")) }.doFinal(data)
        // HKDF-SHA256, one block: 32 bytes.
        val prk = hmac(label, secret.toByteArray(Charsets.UTF_8))
        val key = hmac(prk, "aes-256-gcm".toByteArray() + 1)
        val raw = runCatching { Base64.getUrlDecoder().decode(nonce) }.getOrNull() ?: return null
        if (raw.size != 1 + 12 + 8 + 16 || raw[0] != 1.toByte()) return null
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, SecretKeySpec(key, "AES"), GCMParameterSpec(128, raw, 1, 12))
        cipher.updateAAD(label + 1)
        val plain = runCatching { cipher.doFinal(raw, 13, raw.size - 13) }.getOrNull() ?: return null
        return ByteBuffer.wrap(plain).long
    }
}

/** The caller as a DPoP test route hands it back, `jkt` included. */
fun dpopInfoJson(info: AuthInfo): JsonObject =
    JsonObject(
        mapOf(
            "issuer" to JsonPrimitive(info.issuer),
            "subject" to (info.subject?.let(::JsonPrimitive) ?: JsonNull),
            "client_id" to (info.clientId?.let(::JsonPrimitive) ?: JsonNull),
            "scopes" to JsonArray(info.scopes.map(::JsonPrimitive)),
            "audience" to JsonArray(info.audience.map(::JsonPrimitive)),
            "jkt" to (info.jkt?.let(::JsonPrimitive) ?: JsonNull),
        ),
    )

/** Every path under the route answers with the caller. */
fun Route.echoCaller() {
    val echo: suspend io.ktor.server.routing.RoutingContext.() -> Unit = {
        call.respondText(dpopInfoJson(call.authInfo!!).toString(), ContentType.Application.Json)
    }
    handle(echo)
    route("{...}") { handle(echo) }
}

/** The longest request header line Ktor's CIO engine reads. */
private const val CIO_MAX_LINE = 8192

/**
 * tests/vectors/dpop.json through the public API on a real Ktor server: each case's route is a
 * guard of its own (its own replay store) with "now" pinned to the case's, keys and
 * introspection answers served by real HTTP servers on 127.0.0.1, each `DPoP` field line sent
 * as its own header line, and the metadata document served by [protectedResourceMetadata].
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DpopVectorsTest {
    private val vectors = Vectors.load("dpop.json")
    private val cases = vectors["cases"] as JsonArray
    private val resource = vectors["resource"]!!.jsonPrimitive.content
    private val keys = JsonServer()

    private val serverConfig: AuthServerConfig =
        run {
            keys.serve("/jwks.json", vectors["jwks"].toString())
            val metadata = vectors["metadata"]!!.jsonObject.toMutableMap()
            metadata["jwks_uri"] = JsonPrimitive("${keys.url}/jwks.json")
            AuthServerConfig.fromJson(JsonObject(metadata), ServerType.OIDC)
        }

    // Each case's introspection answer for its token; the endpoint checks nothing else here
    // (IntrospectionVectorsTest covers the client authentication).
    private val introspectionAnswers =
        cases.map { it.jsonObject }.filter { it["introspection"] != null }.associate {
            it["request"]!!
                .jsonObject["authorization"]!!
                .jsonPrimitive.content
                .substringAfter(' ') to it["introspection"]!!.jsonObject
        }

    private val introspectEndpoint: com.sun.net.httpserver.HttpServer =
        com.sun.net.httpserver.HttpServer.create(java.net.InetSocketAddress("127.0.0.1", 0), 0).apply {
            createContext("/introspect") { exchange ->
                val token =
                    exchange.requestBody
                        .readAllBytes()
                        .decodeToString()
                        .split('&')
                        .map { it.split('=', limit = 2) }
                        .firstOrNull { it[0] == "token" }
                        ?.let { java.net.URLDecoder.decode(it[1], Charsets.UTF_8) }
                val answer = (introspectionAnswers[token] ?: JsonObject(mapOf("active" to JsonPrimitive(false)))).toString().toByteArray()
                exchange.responseHeaders.add("content-type", "application/json")
                exchange.sendResponseHeaders(200, answer.size.toLong())
                exchange.responseBody.use { it.write(answer) }
            }
            start()
        }

    // The options DpopConfig has, as its setters name them (replay_timeout_ms is `replayTimeout`).
    private val dpopProperties =
        DpopConfig::class.java.methods
            .filter { it.name.startsWith("set") }
            .map {
                it.name
                    .removePrefix("set")
                    .substringBefore('-')
                    .replaceFirstChar(Char::lowercase)
            }.toSet() + "replayTimeoutMs"

    private fun mcpAuth(metadata: JsonObject? = null) =
        McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Metadata(serverConfig)), listOf("read"), metadata))

    /** One case's guard, on an McpAuth of its own: guards of one resource must agree on DPoP. */
    private fun guard(c: JsonObject): BearerAuth {
        val now = c["now"]!!.jsonPrimitive.double
        val configure: BearerAuthConfig.() -> Unit = {
            audience = resource
            requiredScopes = c["required_scopes"].strings() ?: emptyList()
            showErrorDetails = c["show_error_details"]!!.jsonPrimitive.boolean
            leeway = c["leeway"]!!.jsonPrimitive.double.seconds
            (c["dpop"] as? JsonObject)?.let { dpopFrom(it, now) }
        }
        val auth = mcpAuth()
        return if (c["introspection"] != null) {
            val i = vectors["introspection"]!!.jsonObject
            val config =
                IntrospectionConfig(
                    clientId = i["client_id"]!!.jsonPrimitive.content,
                    clientSecret = i["client_secret"]!!.jsonPrimitive.content,
                    endpoint = "http://127.0.0.1:${introspectEndpoint.address.port}/introspect",
                )
            auth.bearerAuth(resource, config, configure)
        } else {
            auth.bearerAuth(resource, configure)
        }
    }

    private val guards = cases.map { guard(it.jsonObject) }

    private val server =
        KtorServer {
            routing {
                route("/mcp") {
                    install(McpBearerAuth) { guardOf = { call -> guards[call.request.headers["X-Vector-Case"]!!.toInt()] } }
                    echoCaller()
                }
            }
        }

    @AfterAll
    fun stop() {
        server.close()
        keys.close()
        introspectEndpoint.stop(0)
    }

    /** `dpop_nonce` of an answer: no `DPoP-Nonce`, or exactly one made at this very "now". */
    private fun nonceOk(
        r: HttpResponse<String>,
        c: JsonObject,
    ): JsonElement {
        val values = r.headers().allValues("DPoP-Nonce")
        if (values.isEmpty()) return JsonPrimitive(false)
        if (values.size > 1) return JsonPrimitive("several DPoP-Nonce headers")
        val secret =
            (c["dpop"] as? JsonObject)?.get("nonce_secret")?.jsonPrimitive?.content
                ?: vectors["nonce_secret"]!!.jsonPrimitive.content
        val at = DpopHttp.nonceIssuedAt(values[0], secret)
        val now = c["now"]!!.jsonPrimitive.double
        return if (at == kotlin.math.floor(now).toLong()) JsonPrimitive(true) else JsonPrimitive("a DPoP-Nonce made at $at, not at $now")
    }

    private fun answer(
        r: HttpResponse<String>,
        c: JsonObject,
    ): JsonObject =
        if (r.statusCode() == 200) {
            val info = Json.parseToJsonElement(r.body()).jsonObject.toMutableMap()
            // A one-element list for a string `aud`, as AuthInfo.audience holds it.
            val want = c["expect"]!!.jsonObject["auth_info"]?.jsonObject?.get("audience")
            if (want is JsonPrimitive && info["audience"]!!.jsonArray.size == 1) info["audience"] = info["audience"]!!.jsonArray[0]
            JsonObject(mapOf("status" to JsonPrimitive(200), "auth_info" to JsonObject(info), "dpop_nonce" to nonceOk(r, c)))
        } else {
            JsonObject(
                mapOf(
                    "status" to JsonPrimitive(r.statusCode()),
                    // Not JSON: the text itself, so that the case fails showing it.
                    "body" to (runCatching { Json.parseToJsonElement(r.body()) }.getOrNull() ?: JsonPrimitive(r.body())),
                    "www_authenticate" to JsonArray(r.headers().allValues("WWW-Authenticate").map(::JsonPrimitive)),
                    "dpop_nonce" to nonceOk(r, c),
                ),
            )
        }

    @TestFactory
    fun cases(): List<DynamicTest> =
        cases.mapIndexed { i, case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val request = c["request"]!!.jsonObject
                val send = {
                    DpopHttp.send(
                        server.url + request["path"]!!.jsonPrimitive.content,
                        request["method"]!!.jsonPrimitive.content,
                        request["authorization"].stringOrNull(),
                        request["dpop"].strings()!!,
                        mapOf("X-Vector-Case" to "$i"),
                    )
                }
                val proofs = request["dpop"].strings()!!
                if (proofs.any { "DPoP: $it".length > CIO_MAX_LINE }) {
                    // CIO refuses a header line over 8 KiB itself, before any plugin runs: the
                    // request is refused all the same, and core's answer is checked through the guard.
                    assertEquals(400, send().statusCode())
                    val result =
                        runBlocking {
                            guards[i].authenticate(
                                McpHttpRequest(
                                    method = request["method"]!!.jsonPrimitive.content,
                                    authorization = request["authorization"].stringOrNull(),
                                    dpop = proofs,
                                    path = request["path"]!!.jsonPrimitive.content,
                                ),
                            )
                        }
                    val refused = result as AuthResult.Rejected
                    val got =
                        JsonObject(
                            mapOf(
                                "status" to JsonPrimitive(refused.status),
                                "body" to Json.parseToJsonElement(refused.body),
                                "www_authenticate" to JsonArray(refused.challenges.map(::JsonPrimitive)),
                                "dpop_nonce" to JsonPrimitive(refused.headers.any { it.first == "DPoP-Nonce" }),
                            ),
                        )
                    assertEquals(c["expect"], got)
                    return@dynamicTest
                }
                if (c["send_twice"]?.jsonPrimitive?.boolean == true) {
                    val first = send()
                    assertEquals(200, first.statusCode(), "the first request: ${first.body()}")
                }
                val r = send()
                assertEquals(c["expect"], answer(r, c), r.body())
            }
        }

    @TestFactory
    fun metadata(): List<DynamicTest> =
        (vectors["metadata_cases"] as JsonArray).map { case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val auth = mcpAuth(JsonObject(mapOf("dpop_bound_access_tokens_required" to JsonPrimitive("configured, replaced"))))
                val guard = auth.bearerAuth(resource) { dpopFrom(c["dpop"]!!.jsonObject) }
                KtorServer {
                    routing {
                        protectedResourceMetadata(auth)
                        route("/mcp") { install(McpBearerAuth) { this.guard = guard } }
                    }
                }.use { s ->
                    val r = Http.send(s.url + auth.metadataPath(resource))
                    assertEquals(200, r.status)
                    // Exact text: the key order is part of the vector.
                    assertEquals(c["expected"].toString(), r.body)
                }
            }
        }

    @TestFactory
    fun configErrors(): List<DynamicTest> =
        (vectors["config_errors"] as JsonArray).map { case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val settings = c["dpop"]!!.jsonObject
                val other = settings["resource"]?.jsonPrimitive?.content
                val mode = settings["mode"]?.jsonPrimitive?.content
                val unknown =
                    settings.keys.filter {
                        it
                            .split('_')
                            .mapIndexed { i, w ->
                                if (i ==
                                    0
                                ) {
                                    w
                                } else {
                                    w.replaceFirstChar(Char::uppercase)
                                }
                            }.joinToString("") !in
                            dpopProperties
                    }
                if (other != null) {
                    // Kotlin's DPoP settings take the guard's resource identifier; an unusable one is
                    // refused before any guard exists, by McpAuth.
                    assertThrows<McpAuthException> {
                        McpAuth(ProtectedResource(other, listOf(AuthorizationServer.Metadata(serverConfig))))
                    }
                } else if (mode != null && DpopMode.entries.none { it.name.lowercase() == mode }) {
                    // A typed enum: an unknown mode cannot be written in Kotlin.
                    assertThrows<IllegalArgumentException> { DpopMode.valueOf(mode.uppercase()) }
                } else if (unknown.isNotEmpty()) {
                    // Typed properties: an unknown option cannot be written in Kotlin.
                    assertTrue(unknown.single() == "window", "$unknown")
                } else {
                    val e = assertThrows<ConfigException> { mcpAuth().bearerAuth(resource) { dpopFrom(settings) } }
                    assertEquals("invalid_dpop_config", e.code, e.toString())
                }
            }
        }
}
