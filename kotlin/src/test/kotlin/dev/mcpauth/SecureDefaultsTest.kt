package dev.mcpauth

import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.double
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.util.logging.Handler
import java.util.logging.Level
import java.util.logging.LogRecord
import java.util.logging.Logger
import kotlin.time.Duration.Companion.seconds

/** Warning-level records of one logger, for tests. */
private class Recorder(
    name: String,
) : AutoCloseable {
    val logger: Logger = Logger.getLogger(name).also { it.useParentHandlers = false }
    val warnings = mutableListOf<String>()
    private val handler =
        object : Handler() {
            override fun publish(record: LogRecord) {
                if (record.level == Level.WARNING) synchronized(warnings) { warnings += record.message }
            }

            override fun flush() {}

            override fun close() {}
        }

    init {
        logger.addHandler(handler)
    }

    override fun close() = logger.removeHandler(handler)
}

/**
 * Secure defaults through the public API: the audience rule (tests/vectors/audience.json,
 * resource mode: the only mode of this package), published key sets (keys.json), durations
 * (options.json), and a release library without the core's panic hook.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureDefaultsTest {
    private val keys = JsonServer()

    @AfterAll
    fun stop() = keys.close()

    private fun resourceWith(
        resource: String,
        jwksUri: String,
        metadata: JsonObject,
    ): ProtectedResource {
        val md = JsonObject(metadata + ("jwks_uri" to JsonPrimitive(jwksUri)))
        return ProtectedResource(resource, listOf(AuthorizationServer.Metadata(AuthServerConfig.fromJson(md, ServerType.OIDC))))
    }

    private fun rejection(r: AuthResult): JsonObject {
        val rejected = r as AuthResult.Rejected
        return JsonObject(
            mapOf(
                "status" to JsonPrimitive(rejected.status),
                "body" to Response(rejected.status, emptyMap(), rejected.body).json,
                "www_authenticate" to JsonPrimitive(rejected.wwwAuthenticate),
            ),
        )
    }

    @TestFactory
    fun audience(): List<DynamicTest> {
        val v = Vectors.load("audience.json")
        keys.serve("/audience/jwks", v["jwks"].toString())
        val resource = v["resource"]!!.jsonPrimitive.content
        val cases = (v["cases"] as JsonArray).map { it.jsonObject }.filter { it["mode"]!!.jsonPrimitive.content == "resource" }
        return cases.mapIndexed { i, c ->
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                Recorder("dev.mcpauth.test.audience.$i").use { log ->
                    val mcpAuth =
                        McpAuth(listOf(resourceWith(resource, "${keys.url}/audience/jwks", v["metadata"]!!.jsonObject)), log.logger)
                    val guard =
                        mcpAuth.bearerAuth(resource) {
                            audience = c["audience"].stringOrNull()
                            acceptAnyAudience = c["accept_any_audience"]!!.jsonPrimitive.boolean
                        }
                    val audienceWarnings = log.warnings.filter { "audience" in it }
                    assertEquals(c["warning"]!!.jsonPrimitive.boolean, audienceWarnings.isNotEmpty(), "$audienceWarnings")
                    val token = v["tokens"]!!.jsonObject[c["token"]!!.jsonPrimitive.content]!!.jsonPrimitive.content
                    val r = runBlocking { guard.authenticate("Bearer $token") }
                    val expect = c["expect"]!!.jsonObject
                    if (expect["status"]!!.jsonPrimitive.content == "200") {
                        assertTrue(r is AuthResult.Authenticated, "$r")
                    } else {
                        assertEquals(expect, rejection(r))
                    }
                }
            }
        } +
            (v["config_errors"] as JsonArray).map { it.jsonObject }.filter { it["mode"]!!.jsonPrimitive.content == "resource" }.map { c ->
                DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                    val mcpAuth = McpAuth(resourceWith(resource, "${keys.url}/audience/jwks", v["metadata"]!!.jsonObject))
                    val e =
                        assertThrows<McpAuthException> {
                            mcpAuth.bearerAuth(resource) {
                                audience = c["audience"].stringOrNull()
                                acceptAnyAudience = true
                            }
                        }
                    assertEquals(c["code"]!!.jsonPrimitive.content, e.code)
                }
            }
    }

    @TestFactory
    fun publishedKeySets(): List<DynamicTest> {
        val v = Vectors.load("keys.json")
        val issuer = "https://issuer.example.com"
        val metadata =
            JsonObject(
                mapOf(
                    "issuer" to JsonPrimitive(issuer),
                    "authorization_endpoint" to JsonPrimitive("$issuer/authorize"),
                    "token_endpoint" to JsonPrimitive("$issuer/token"),
                    "response_types_supported" to JsonArray(listOf(JsonPrimitive("code"))),
                    "code_challenge_methods_supported" to JsonArray(listOf(JsonPrimitive("S256"))),
                    "registration_endpoint" to JsonPrimitive("$issuer/register"),
                ),
            )
        return v["published"]!!.jsonArray.mapIndexed { i, case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                keys.serve("/published/$i", c["jwks"].toString())
                Recorder("dev.mcpauth.test.keys.$i").use { log ->
                    val resource = "https://mcp.example.com/mcp"
                    val mcpAuth = McpAuth(listOf(resourceWith(resource, "${keys.url}/published/$i", metadata)), log.logger)
                    val guard =
                        mcpAuth.bearerAuth(resource) {
                            algorithms = c["algorithms"].strings()
                        }
                    for (t in c["tokens"]!!.jsonArray.map { it.jsonObject }) {
                        val r = runBlocking { guard.authenticate("Bearer ${t["token"]!!.jsonPrimitive.content}") }
                        assertEquals(t["valid"]!!.jsonPrimitive.boolean, r is AuthResult.Authenticated, "$r")
                    }
                    c["notice"].stringOrNull()?.let { kid ->
                        assertEquals(1, log.warnings.count { kid in it }, "${log.warnings}")
                    }
                }
            }
        }
    }

    @TestFactory
    fun durations(): List<DynamicTest> {
        val v = Vectors.load("options.json")
        val resource = "https://mcp.example.com/mcp"
        val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery("https://issuer.example.com"))))
        return v["durations"]!!.jsonArray.map { it.jsonObject }.map { c ->
            val s = c["seconds"]!!.jsonPrimitive.double
            DynamicTest.dynamicTest("cacheTtl of $s seconds") {
                val config = IntrospectionConfig("rs", "secret", endpoint = "https://issuer.example.com/i", cacheTtl = s.seconds)
                if (c["ok"]!!.jsonPrimitive.boolean) {
                    mcpAuth.bearerAuth(resource, config)
                } else {
                    val e = assertThrows<McpAuthException> { mcpAuth.bearerAuth(resource, config) }
                    assertEquals(v["code"]!!.jsonPrimitive.content, e.code)
                }
            }
        }
    }

    @Test
    fun theReleaseLibraryHasNoPanicHook() {
        // The suite runs with MCP_AUTH_TEST_PANIC set to this token (pom.xml): a library with the
        // hook would panic and answer 500; this one just refuses a malformed token.
        val resource = "https://mcp.example.com/mcp"
        val mcpAuth = McpAuth(ProtectedResource(resource, listOf(AuthorizationServer.Discovery("https://issuer.example.com"))))
        val r = runBlocking { mcpAuth.bearerAuth(resource).authenticate("Bearer kotlin-panic-hook-probe") } as AuthResult.Rejected
        assertEquals(401, r.status)
        assertEquals("invalid_token", r.error.code)
    }
}
