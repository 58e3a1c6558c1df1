package dev.mcpauth

import dev.mcpauth.ktor.McpBearerAuth
import dev.mcpauth.ktor.authInfo
import io.ktor.http.ContentType
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.route
import io.ktor.server.routing.routing
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/**
 * tests/vectors/key_rotation.json through the public API: one route in JWT mode on a real Ktor
 * server, resource-server defaults (audience from the resource, no required scopes, default
 * leeway), the keys served by a real HTTP server whose answer changes between the steps, which
 * run in order in this one test (a step's `serve` names the key set served from that step on).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyRotationVectorsTest {
    private val vectors = Vectors.load("key_rotation.json")
    private val steps = vectors["steps"] as JsonArray
    private val keySets = vectors["key_sets"]!!.jsonObject
    private val jwks = JsonServer()
    private val resource = vectors["resource"]!!.jsonPrimitive.content

    private val mcpAuth: McpAuth =
        run {
            val metadata = vectors["metadata"]!!.jsonObject.toMutableMap()
            metadata["jwks_uri"] = JsonPrimitive("${jwks.url}/jwks.json")
            val server = AuthorizationServer.Metadata(AuthServerConfig.fromJson(JsonObject(metadata), ServerType.OIDC))
            McpAuth(ProtectedResource(resource, listOf(server)))
        }

    private val server =
        KtorServer {
            routing {
                route("/mcp") {
                    install(McpBearerAuth) {
                        guard =
                            mcpAuth.bearerAuth(resource) {
                                showErrorDetails = vectors["show_error_details"]!!.jsonPrimitive.boolean
                            }
                    }
                    get { call.respondText(authInfoJson(call.authInfo!!).toString(), ContentType.Application.Json) }
                }
            }
        }

    @AfterAll
    fun stop() {
        server.close()
        jwks.close()
    }

    @Test
    fun keyRotation() {
        // The first step serves "before" (it says so); no request reaches the key server before it.
        assertEquals("before", steps.first().jsonObject["serve"].stringOrNull())
        val failures = mutableListOf<String>()
        for (step in steps) {
            val s = step.jsonObject
            val name = s["name"]!!.jsonPrimitive.content
            s["serve"].stringOrNull()?.let { set -> jwks.serve("/jwks.json", keySets[set]!!.toString()) }
            val header = s["header"].stringOrNull()
            val r = Http.send("${server.url}/mcp", headers = header?.let { mapOf("Authorization" to it) } ?: emptyMap())
            try {
                // Kotlin words and shapes failures as the Node package does.
                assertExpected((s["expect_node"] ?: s["expect"])!!.jsonObject, r)
                if (r.status != 200) assertEquals("application/json", r.header("Content-Type")!!.substringBefore(';'))
            } catch (e: AssertionError) {
                failures += "$name: ${e.message}"
            }
        }
        assertTrue(failures.isEmpty(), failures.joinToString("\n"))
    }
}
