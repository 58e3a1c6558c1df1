package dev.mcpauth

import dev.mcpauth.ktor.McpBearerAuth
import dev.mcpauth.ktor.authInfo
import dev.mcpauth.ktor.mcpOperations
import io.ktor.http.ContentType
import io.ktor.http.HttpMethod
import io.ktor.server.request.httpMethod
import io.ktor.server.request.receive
import io.ktor.server.response.respondText
import io.ktor.server.routing.route
import io.ktor.server.routing.routing
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.util.Base64

/** A vector's snake_case `rules` in the Kotlin spelling; a member this runner does not know fails the case. */
fun BearerAuthConfig.rules(rules: JsonObject) {
    fun scopes(v: JsonElement) = v.jsonObject.mapValues { (_, s) -> s.strings()!! }
    for ((member, value) in rules) {
        when (member) {
            "tool_scopes" -> toolScopes = scopes(value)
            "resource_scopes" -> resourceScopes = scopes(value)
            "prompt_scopes" -> promptScopes = scopes(value)
            "method_scopes" -> methodScopes = scopes(value)
            "scope_hierarchy" -> scopeHierarchy = scopes(value)
            "max_body_bytes" -> maxBodyBytes = value.jsonPrimitive.int
            else -> error("unknown rule member `$member`")
        }
    }
}

/**
 * tests/vectors/operations.json through the public API: JWT mode with per-operation rules on a
 * real Ktor server, keys served by a real HTTP server, each request sent as its raw bytes. The
 * handler echoes the body it received, so a 200 proves the bytes reached it unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperationsVectorsTest {
    private val vectors = Vectors.load("operations.json")
    private val cases = vectors["cases"] as JsonArray
    private val tokens = vectors["tokens"]!!.jsonObject
    private val jwks = JsonServer()
    private val resource = vectors["resource"]!!.jsonPrimitive.content
    private val b64 = Base64.getEncoder()

    private val mcpAuth: McpAuth =
        run {
            jwks.serve("/jwks.json", vectors["jwks"].toString())
            val metadata = vectors["metadata"]!!.jsonObject.toMutableMap()
            metadata["jwks_uri"] = JsonPrimitive("${jwks.url}/jwks.json")
            McpAuth(
                ProtectedResource(
                    resource,
                    listOf(AuthorizationServer.Metadata(AuthServerConfig.fromJson(JsonObject(metadata), ServerType.OIDC))),
                ),
            )
        }

    private val server =
        KtorServer {
            routing {
                cases.forEachIndexed { i, case ->
                    val c = case.jsonObject
                    route("/case/$i") {
                        install(McpBearerAuth) {
                            guard =
                                mcpAuth.bearerAuth(resource) {
                                    audience = resource
                                    requiredScopes = c["required_scopes"].strings() ?: emptyList()
                                    rules(c["rules"]!!.jsonObject)
                                }
                        }
                        handle {
                            // CIO waits for a GET's body that never comes; the vectors send none.
                            val received = if (call.request.httpMethod == HttpMethod.Post) call.receive<ByteArray>() else ByteArray(0)
                            val echo =
                                buildJsonObject {
                                    put("subject", call.authInfo!!.subject)
                                    put("body_base64", b64.encodeToString(received))
                                    put(
                                        "operations",
                                        JsonArray(
                                            call.mcpOperations.map { op ->
                                                buildJsonObject {
                                                    put("method", op.method)
                                                    op.name?.let { put("name", it) }
                                                }
                                            },
                                        ),
                                    )
                                }
                            call.respondText(echo.toString(), ContentType.Application.Json)
                        }
                    }
                }
            }
        }

    @AfterAll
    fun stop() {
        server.close()
        jwks.close()
    }

    private fun bodyOf(request: JsonObject): ByteArray? =
        request["body"]?.jsonPrimitive?.content?.toByteArray(Charsets.UTF_8)
            ?: request["body_base64"]?.jsonPrimitive?.content?.let(Base64.getDecoder()::decode)

    @TestFactory
    fun operations(): List<DynamicTest> =
        cases.mapIndexed { i, case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val request = c["request"]!!.jsonObject
                val headers = request["headers"]!!.jsonObject.mapValues { it.value.jsonPrimitive.content }.toMutableMap()
                c["token"].stringOrNull()?.let { headers["authorization"] = "Bearer ${tokens[it]!!.jsonPrimitive.content}" }
                val body = bodyOf(request)
                val r = Http.sendBytes("${server.url}/case/$i", request["method"]!!.jsonPrimitive.content, headers, body)
                val expect = c["expect"]!!.jsonObject
                val status = expect["status"]!!.jsonPrimitive.int
                assertEquals(status, r.status, r.body)
                when (status) {
                    200 -> {
                        val echo = r.json.jsonObject
                        assertEquals(b64.encodeToString(body ?: ByteArray(0)), echo["body_base64"]!!.jsonPrimitive.content)
                        assertEquals(expect["operations"] ?: JsonArray(emptyList()), echo["operations"])
                    }

                    401, 403 -> {
                        assertEquals(expect["body"], Json.parseToJsonElement(r.body))
                        assertEquals(expect["www_authenticate"]!!.jsonPrimitive.content, r.header("WWW-Authenticate"))
                    }

                    else -> {
                        val answer = r.json.jsonObject
                        assertEquals(JsonPrimitive("2.0"), answer["jsonrpc"])
                        assertEquals(JsonNull, answer["id"])
                        assertEquals(expect["jsonrpc_code"]!!.jsonPrimitive.int, answer["error"]!!.jsonObject["code"]!!.jsonPrimitive.int)
                        assertEquals("application/json", r.header("Content-Type")!!.substringBefore(';'))
                        assertNull(r.header("WWW-Authenticate"))
                    }
                }
            }
        }

    @TestFactory
    fun configErrors(): List<DynamicTest> =
        (vectors["config_errors"] as JsonArray).map { case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val e = assertThrows<ConfigException> { mcpAuth.bearerAuth(resource) { rules(c["rules"]!!.jsonObject) } }
                assertEquals(c["code"]!!.jsonPrimitive.content, e.code, e.toString())
            }
        }
}
