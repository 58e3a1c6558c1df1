package dev.mcpauth

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import dev.mcpauth.ktor.authInfo
import dev.mcpauth.ktor.bearerAuth
import io.ktor.http.ContentType
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.routing
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.double
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import java.net.InetSocketAddress
import java.net.URLDecoder
import java.util.Base64
import kotlin.time.Duration.Companion.milliseconds

/**
 * tests/vectors/introspection.json: opaque tokens through the introspection mode on a real Ktor
 * server, answered by a real introspection endpoint that authenticates the client strictly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IntrospectionVectorsTest {
    private val vectors = Vectors.load("introspection.json")
    private val cases = vectors["cases"] as JsonArray
    private val resource = vectors["resource"]!!.jsonPrimitive.content
    private val clientId = vectors["client_id"]!!.jsonPrimitive.content
    private val clientSecret = vectors["client_secret"]!!.jsonPrimitive.content
    private val answers = cases.associate { it.jsonObject["token"]!!.jsonPrimitive.content to it.jsonObject["answer"]!!.jsonObject }

    private val endpoint: HttpServer =
        HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0).apply {
            createContext("/introspect", ::introspect)
            start()
        }

    private fun send(
        exchange: HttpExchange,
        status: Int,
        body: String,
        type: String = "application/json",
    ) {
        val bytes = body.toByteArray()
        exchange.responseHeaders.add("content-type", type)
        exchange.sendResponseHeaders(status, bytes.size.toLong())
        exchange.responseBody.use { it.write(bytes) }
    }

    private fun introspect(exchange: HttpExchange) {
        val form =
            exchange.requestBody
                .readAllBytes()
                .decodeToString()
                .split('&')
                .filter(String::isNotEmpty)
                .associate {
                    val (k, v) = (it.split('=', limit = 2) + "").take(2)
                    URLDecoder.decode(k, Charsets.UTF_8) to URLDecoder.decode(v, Charsets.UTF_8)
                }
        val type = exchange.requestHeaders.getFirst("content-type")?.substringBefore(';')
        if (exchange.requestMethod != "POST" || type != "application/x-www-form-urlencoded" || form["token_type_hint"] != "access_token") {
            return send(exchange, 400, """{"error":"invalid_request"}""")
        }
        val basic =
            exchange.requestHeaders.getFirst("authorization")?.takeIf { it.startsWith("Basic ") }?.let {
                val (id, secret) =
                    Base64
                        .getDecoder()
                        .decode(it.removePrefix("Basic "))
                        .decodeToString()
                        .split(':', limit = 2)
                URLDecoder.decode(id, Charsets.UTF_8) to URLDecoder.decode(secret, Charsets.UTF_8)
            }
        val posted = form["client_id"]?.let { it to form["client_secret"] }
        val authenticated =
            (basic == null) != (posted == null) && (basic ?: posted) == (clientId to clientSecret)
        if (!authenticated) return send(exchange, 401, """{"error":"invalid_client"}""")
        val answer = answers[form["token"]] ?: return send(exchange, 200, """{"active":false}""")
        val status = answer["status"]!!.jsonPrimitive.content.toInt()
        answer["text"]?.let { return send(exchange, status, it.jsonPrimitive.content, "text/html") }
        send(exchange, status, answer["json"].toString())
    }

    private val mcpAuth =
        run {
            val metadata = vectors["metadata"]!!.jsonObject.toMutableMap()
            metadata["introspection_endpoint"] = JsonPrimitive("http://127.0.0.1:${endpoint.address.port}/introspect")
            val config = AuthServerConfig.fromJson(JsonObject(metadata), ServerType.OAUTH)
            McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Metadata(config))))
        }

    private val server =
        KtorServer {
            routing {
                cases.forEachIndexed { i, case ->
                    val c = case.jsonObject
                    val introspection =
                        IntrospectionConfig(
                            clientId = clientId,
                            clientSecret = c["client_secret"].stringOrNull() ?: clientSecret,
                            authMethod =
                                if (c["auth_method"].stringOrNull() == "client_secret_post") {
                                    ClientAuthMethod.CLIENT_SECRET_POST
                                } else {
                                    ClientAuthMethod.CLIENT_SECRET_BASIC
                                },
                        )
                    val guard =
                        mcpAuth.bearerAuth(resource, introspection) {
                            audience = c["audience"].stringOrNull()
                            acceptAnyAudience = c["accept_any_audience"]?.jsonPrimitive?.boolean ?: false
                            requiredScopes = c["required_scopes"].strings() ?: emptyList()
                            leeway = (c["leeway"]!!.jsonPrimitive.double * 1000).milliseconds
                            showErrorDetails = c["show_error_details"]!!.jsonPrimitive.boolean
                        }
                    bearerAuth(guard) {
                        get("/case/$i") { call.respondText(authInfoJson(call.authInfo!!).toString(), ContentType.Application.Json) }
                    }
                }
            }
        }

    @AfterAll
    fun stop() {
        server.close()
        endpoint.stop(0)
    }

    @TestFactory
    fun introspection(): List<DynamicTest> =
        cases.mapIndexed { i, case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val header = c["header"].stringOrNull()
                val r = Http.send("${server.url}/case/$i", headers = header?.let { mapOf("Authorization" to it) } ?: emptyMap())
                assertExpected((c["expect_node"] ?: c["expect"])!!.jsonObject, r)
            }
        }
}
