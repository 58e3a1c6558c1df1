package dev.mcpauth

import dev.mcpauth.ktor.bearerAuth
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.routing
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance

/** tests/vectors/custom_verifiers.json: verifiers that throw or return, answered by the guard. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CustomVerifierVectorsTest {
    private val vectors = Vectors.load("custom_verifiers.json")
    private val cases = vectors["cases"] as JsonArray
    private val resource = vectors["resource"]!!.jsonPrimitive.content
    private val mcpAuth =
        McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery(vectors["issuer"]!!.jsonPrimitive.content))))

    private fun exception(raise: JsonObject): McpAuthException {
        val code = raise["code"]!!.jsonPrimitive.content
        val details =
            ErrorDetails(missingScopes = raise["missing_scopes"].strings(), expected = raise["expected"], actual = raise["actual"])
        return when (raise["kind"]!!.jsonPrimitive.content) {
            "token_verification" -> TokenVerificationException(code, details = details)
            "bearer_auth" -> BearerAuthException(code, details = details)
            "auth_server" -> AuthServerException(code, details = details)
            else -> error("unknown kind in $raise")
        }
    }

    private fun verifier(case: JsonObject): suspend (String) -> AuthInfo {
        case["raise"]?.let { raise -> return { throw exception(raise.jsonObject) } }
        val r = case["return"]!!.jsonObject
        return { token ->
            AuthInfo(
                token = token,
                issuer = r["issuer"]!!.jsonPrimitive.content,
                subject = r["subject"].stringOrNull(),
                scopes = r["scopes"].strings()!!,
                audience = audienceList(r["audience"]),
            )
        }
    }

    private val server =
        KtorServer {
            routing {
                cases.forEachIndexed { i, case ->
                    val c = case.jsonObject
                    val guard =
                        mcpAuth.bearerAuth(resource, verifier(c)) {
                            // A case's own `audience` (null: none configured) replaces the top level's.
                            audience = (if ("audience" in c) c["audience"] else vectors["audience"]).stringOrNull()
                            acceptAnyAudience = c["accept_any_audience"]?.jsonPrimitive?.boolean ?: false
                            requiredScopes = c["required_scopes"].strings() ?: emptyList()
                            showErrorDetails = c["show_error_details"]?.jsonPrimitive?.boolean ?: false
                        }
                    bearerAuth(guard) { get("/case/$i") { call.respondText("reached") } }
                }
            }
        }

    @AfterAll
    fun stop() = server.close()

    @TestFactory
    fun customVerifiers(): List<DynamicTest> =
        cases.mapIndexed { i, case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val r = Http.send("${server.url}/case/$i", headers = mapOf("Authorization" to "Bearer any-token"))
                val expect = (c["expect_node"] ?: c["expect"])!!.jsonObject
                assertEquals(expect["status"]!!.jsonPrimitive.int, r.status, r.body)
                if (r.status == 200) {
                    assertEquals("reached", r.body)
                } else {
                    assertEquals(expect["body"], Json.parseToJsonElement(r.body))
                    assertEquals(expect["www_authenticate"].stringOrNull(), r.header("WWW-Authenticate"))
                }
            }
        }
}
