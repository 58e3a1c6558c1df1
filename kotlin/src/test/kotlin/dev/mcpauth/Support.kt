package dev.mcpauth

import com.sun.net.httpserver.HttpServer
import io.ktor.server.application.Application
import io.ktor.server.cio.CIO
import io.ktor.server.engine.EmbeddedServer
import io.ktor.server.engine.embeddedServer
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonPrimitive
import java.io.File
import java.net.InetSocketAddress
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.Collections

/** The shared vectors (tests/vectors), located by Maven's `mcpauth.vectors` property. */
object Vectors {
    private val dir = File(System.getProperty("mcpauth.vectors") ?: "../tests/vectors")

    fun load(name: String): JsonObject = Json.parseToJsonElement(File(dir, name).readText()) as JsonObject
}

/** A plain HTTP server on 127.0.0.1 that answers JSON documents by path and records requests. */
class JsonServer : AutoCloseable {
    private val documents = Collections.synchronizedMap(mutableMapOf<String, String>())
    val requests: MutableList<String> = Collections.synchronizedList(mutableListOf())
    private val server: HttpServer = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)

    init {
        server.createContext("/") { exchange ->
            val path = exchange.requestURI.path
            requests += exchange.requestURI.rawPath + (exchange.requestURI.rawQuery?.let { "?$it" } ?: "")
            val body = documents[path]
            val bytes = (body ?: """{"error":"not_found"}""").toByteArray()
            exchange.responseHeaders.add("content-type", "application/json")
            exchange.sendResponseHeaders(if (body == null) 404 else 200, bytes.size.toLong())
            exchange.responseBody.use { it.write(bytes) }
        }
        server.start()
    }

    val url: String get() = "http://127.0.0.1:${server.address.port}"

    fun serve(
        path: String,
        json: String,
    ) {
        documents[path] = json
    }

    override fun close() = server.stop(0)
}

/** A real Ktor server (CIO) on 127.0.0.1 with a free port. */
class KtorServer(
    module: Application.() -> Unit,
) : AutoCloseable {
    private val server: EmbeddedServer<*, *> = embeddedServer(CIO, port = 0, host = "127.0.0.1", module = module).start(wait = false)
    val url: String =
        "http://127.0.0.1:" +
            runBlocking {
                server.engine
                    .resolvedConnectors()
                    .first()
                    .port
            }

    override fun close() = server.stop(100, 1000)
}

data class Response(
    val status: Int,
    val headers: Map<String, List<String>>,
    val body: String,
) {
    fun header(name: String): String? =
        headers.entries
            .firstOrNull { it.key.equals(name, ignoreCase = true) }
            ?.value
            ?.firstOrNull()

    val json: JsonElement get() = Json.parseToJsonElement(body)
}

object Http {
    private val client: HttpClient = HttpClient.newHttpClient()

    fun send(
        url: String,
        method: String = "GET",
        headers: Map<String, String> = emptyMap(),
        body: String? = null,
    ): Response = sendBytes(url, method, headers, body?.toByteArray(Charsets.UTF_8))

    /** Sends [body] as these very bytes, whatever the headers say about them. */
    fun sendBytes(
        url: String,
        method: String = "POST",
        headers: Map<String, String> = emptyMap(),
        body: ByteArray? = null,
    ): Response {
        // A server that never answers fails the test instead of hanging the build.
        val request = HttpRequest.newBuilder(URI(url)).timeout(java.time.Duration.ofSeconds(30))
        headers.forEach { (k, v) -> request.header(k, v) }
        request.method(method, body?.let(HttpRequest.BodyPublishers::ofByteArray) ?: HttpRequest.BodyPublishers.noBody())
        val r = client.send(request.build(), HttpResponse.BodyHandlers.ofString())
        return Response(r.statusCode(), r.headers().map(), r.body())
    }
}

fun JsonElement?.stringOrNull(): String? = if (this == null || this is JsonNull) null else jsonPrimitive.content

fun JsonElement?.strings(): List<String>? =
    when (this) {
        null, is JsonNull -> null
        is JsonArray -> map { it.jsonPrimitive.content }
        is JsonPrimitive -> listOf(content)
        else -> error("not a string list: $this")
    }

/** A one-element list for a string, as [AuthInfo.audience] holds it. */
fun audienceList(e: JsonElement?): List<String> = e.strings() ?: emptyList()

/** The auth info a test route hands back, for comparing with a vector's `expect.auth_info`. */
fun authInfoJson(info: AuthInfo): JsonObject =
    JsonObject(
        mapOf(
            "issuer" to JsonPrimitive(info.issuer),
            "subject" to (info.subject?.let(::JsonPrimitive) ?: JsonNull),
            "client_id" to (info.clientId?.let(::JsonPrimitive) ?: JsonNull),
            "scopes" to JsonArray(info.scopes.map(::JsonPrimitive)),
            "audience" to JsonArray(info.audience.map(::JsonPrimitive)),
            "claims" to info.claims,
        ),
    )

/** A vector's `expect` (status; auth info, or exact body and challenge) against a response. */
fun assertExpected(
    expect: JsonObject,
    r: Response,
) {
    org.junit.jupiter.api.Assertions
        .assertEquals(expect["status"]!!.jsonPrimitive.content.toInt(), r.status, r.body)
    if (r.status == 200) {
        val want = expect["auth_info"] as? JsonObject ?: return
        val got = r.json as JsonObject
        org.junit.jupiter.api.Assertions
            .assertEquals(want["issuer"], got["issuer"])
        org.junit.jupiter.api.Assertions
            .assertEquals(want["subject"] ?: JsonNull, got["subject"])
        org.junit.jupiter.api.Assertions
            .assertEquals(want["client_id"] ?: JsonNull, got["client_id"])
        org.junit.jupiter.api.Assertions
            .assertEquals(want["scopes"], got["scopes"])
        org.junit.jupiter.api.Assertions
            .assertEquals(audienceList(want["audience"]), audienceList(got["audience"]))
        (want["claims"] as? JsonObject)?.forEach { (k, v) ->
            org.junit.jupiter.api.Assertions
                .assertEquals(v, (got["claims"] as JsonObject)[k], "claim $k")
        }
    } else {
        org.junit.jupiter.api.Assertions
            .assertEquals(expect["body"], Json.parseToJsonElement(r.body))
        org.junit.jupiter.api.Assertions
            .assertEquals(expect["www_authenticate"].stringOrNull(), r.header("WWW-Authenticate"))
    }
}
