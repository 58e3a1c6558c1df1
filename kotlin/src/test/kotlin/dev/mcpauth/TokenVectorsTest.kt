package dev.mcpauth

import dev.mcpauth.ktor.McpBearerAuth
import dev.mcpauth.ktor.authInfo
import io.ktor.http.ContentType
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.route
import io.ktor.server.routing.routing
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.double
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import kotlin.time.Duration.Companion.milliseconds

/** tests/vectors/tokens.json; see [JwtVectors]. */
class TokenVectorsTest : JwtVectors("tokens.json")

/** tests/vectors/providers.json (hosted providers' token shapes); see [JwtVectors]. */
class ProviderVectorsTest : JwtVectors("providers.json")

/**
 * A vector file of the tokens.json format through the public API: JWT mode on a real Ktor
 * server, keys served by a real HTTP server. Cases share one key-set cache and run in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JwtVectors(
    file: String,
) {
    private val vectors = Vectors.load(file)
    private val cases = vectors["cases"] as JsonArray
    private val jwks = JsonServer()
    private val resource = vectors["resource"]!!.jsonPrimitive.content

    private val mcpAuth: McpAuth =
        run {
            jwks.serve("/jwks.json", vectors["jwks"].toString())
            val metadata = vectors["metadata"]!!.jsonObject.toMutableMap()
            metadata["jwks_uri"] = JsonPrimitive("${jwks.url}/jwks.json")
            val more = (vectors["more_issuers"] as JsonArray?).orEmpty()
            val issuers = (listOfNotNull(vectors["issuer"], vectors["second_issuer"]) + more).map { it.jsonPrimitive.content }
            val servers =
                issuers.map { issuer ->
                    val m = JsonObject(metadata + ("issuer" to JsonPrimitive(issuer)))
                    AuthorizationServer.Metadata(AuthServerConfig.fromJson(m, ServerType.OIDC))
                }
            McpAuth(ProtectedResource(resource, servers))
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
                                    audience = c["audience"].stringOrNull()
                                    requiredScopes = c["required_scopes"].strings() ?: emptyList()
                                    leeway = (c["leeway"]!!.jsonPrimitive.double * 1000).milliseconds
                                    showErrorDetails = c["show_error_details"]!!.jsonPrimitive.boolean
                                    requireAtJwt = c["require_at_jwt"]?.jsonPrimitive?.boolean ?: false
                                    acceptAnyAudience = c["accept_any_audience"]?.jsonPrimitive?.boolean ?: false
                                }
                        }
                        get { call.respondText(authInfoJson(call.authInfo!!).toString(), ContentType.Application.Json) }
                    }
                }
            }
        }

    @AfterAll
    fun stop() {
        server.close()
        jwks.close()
    }

    @TestFactory
    fun tokens(): List<DynamicTest> =
        cases.mapIndexed { i, case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val header = c["header"].stringOrNull()
                // Twice: the second answer may come from the verifier's cache of verified tokens,
                // and must be the same.
                repeat(2) {
                    val r = Http.send("${server.url}/case/$i", headers = header?.let { mapOf("Authorization" to it) } ?: emptyMap())
                    // Kotlin words and shapes failures as the Node package does.
                    assertExpected((c["expect_node"] ?: c["expect"])!!.jsonObject, r)
                    if (r.status != 200) assertEquals("application/json", r.header("Content-Type")!!.substringBefore(';'))
                }
            }
        }
}
