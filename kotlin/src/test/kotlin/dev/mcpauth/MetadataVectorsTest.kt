package dev.mcpauth

import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.assertThrows

/** The metadata vectors: PRM URLs and documents, resource configuration errors, server validation, well-known URLs. */
class MetadataVectorsTest {
    private val resources = Vectors.load("resource_metadata.json")

    private fun JsonObject.list(key: String) = this[key]!!.jsonArray.map { it.jsonObject }

    @TestFactory
    fun resourceMetadataUrls(): List<DynamicTest> =
        resources.list("urls").map { c ->
            val resource = c["resource"]!!.jsonPrimitive.content
            DynamicTest.dynamicTest("PRM URL of $resource") {
                val mcpAuth = McpAuth(ProtectedResource(resource, emptyList()))
                assertEquals(c["url"]!!.jsonPrimitive.content, mcpAuth.metadataUrl(resource))
                assertEquals(c["path"]!!.jsonPrimitive.content, mcpAuth.metadataPath(resource))
            }
        }

    @TestFactory
    fun resourcesWithoutMetadataUrl(): List<DynamicTest> =
        resources.list("url_errors").map { c ->
            val resource = c["resource"]!!.jsonPrimitive.content
            DynamicTest.dynamicTest("no PRM URL for $resource") {
                assertThrows<McpAuthException> { McpAuth(ProtectedResource(resource, emptyList())) }
            }
        }

    @TestFactory
    fun refusedConfigurations(): List<DynamicTest> =
        resources.list("config_errors").mapIndexed { i, c ->
            DynamicTest.dynamicTest("refused configuration #$i") {
                val list =
                    c.list("resources").map { r ->
                        val issuers = r["issuers"]!!.jsonArray.map { AuthorizationServer.Discovery(it.jsonPrimitive.content) }
                        ProtectedResource(r["resource"]!!.jsonPrimitive.content, issuers)
                    }
                val e = assertThrows<AuthServerException> { McpAuth(list) }
                assertEquals("invalid_server_config", e.code)
                assertEquals(c["node"], e.details.cause!!.jsonObject["error_description"])
            }
        }

    @TestFactory
    fun documents(): List<DynamicTest> =
        resources.list("documents").mapIndexed { i, c ->
            DynamicTest.dynamicTest("PRM document #$i") {
                val fields = c["metadata"]!!.jsonObject
                val resource = fields["resource"]!!.jsonPrimitive.content
                val extra = JsonObject(fields.filterKeys { it != "resource" && it != "scopes_supported" })
                val mcpAuth =
                    McpAuth(
                        ProtectedResource(
                            resource,
                            c["issuers"]!!.jsonArray.map { AuthorizationServer.Discovery(it.jsonPrimitive.content) },
                            scopesSupported = fields["scopes_supported"].strings(),
                            metadata = extra,
                        ),
                    )
                // Exact text: the key order is part of the contract.
                assertEquals(c["expected"].toString(), mcpAuth.metadataDocument(resource))
            }
        }

    @TestFactory
    fun serverMetadataValidation(): List<DynamicTest> =
        Vectors.load("server_metadata_validation.json").list("cases").map { c ->
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val result = validateServerMetadata(c["metadata"]!!.jsonObject)
                assertEquals(c["is_valid"]!!.jsonPrimitive.boolean, result.isValid)
                assertEquals((c["errors_node"] ?: c["errors"]).strings(), result.errors.map { it.code })
                assertEquals(c["warnings"].strings(), result.warnings.map { it.code })
                assertEquals((c["successes_node"] ?: c["successes"]).strings(), result.successes.map { it.code })
                if (c["schema_error"]?.jsonPrimitive?.boolean != true) {
                    val config = AuthServerConfig.fromJson(c["metadata"]!!.jsonObject, ServerType.OAUTH)
                    assertEquals(result, config.validate())
                } else {
                    val e = assertThrows<AuthServerException> { AuthServerConfig.fromJson(c["metadata"]!!.jsonObject, ServerType.OAUTH) }
                    assertEquals("invalid_server_metadata", e.code)
                }
            }
        }

    @TestFactory
    fun wellKnownUrls(): List<DynamicTest> {
        val v = Vectors.load("well_known_urls.json")
        val ok =
            v.list("cases").map { c ->
                val issuer = c["issuer"]!!.jsonPrimitive.content
                DynamicTest.dynamicTest("well-known URLs of $issuer") {
                    assertEquals(c["oauth"]!!.jsonPrimitive.content, wellKnownUrl(issuer, ServerType.OAUTH))
                    assertEquals(c["oidc"]!!.jsonPrimitive.content, wellKnownUrl(issuer, ServerType.OIDC))
                }
            }
        val refused =
            v.list("errors").map { c ->
                val issuer = c["issuer"]!!.jsonPrimitive.content
                DynamicTest.dynamicTest("no well-known URL for $issuer") {
                    assertThrows<McpAuthException> { wellKnownUrl(issuer, ServerType.OAUTH) }
                }
            }
        // Without a type, the discovery URLs are tried in order: observed at a local issuer that has none.
        val discovery =
            v.list("cases").map { c ->
                val issuer = c["issuer"]!!.jsonPrimitive.content
                DynamicTest.dynamicTest("discovery order for $issuer") {
                    JsonServer().use { local ->
                        val rest = { url: String -> url.replace(Regex("^[A-Za-z]+://[^/?]+"), "") }
                        assertThrows<ConfigException> { runBlocking { fetchServerConfig(local.url + rest(issuer)) } }
                        val expected = c["discovery"]!!.jsonArray.map { rest(it.jsonArray[0].jsonPrimitive.content) }
                        assertEquals(expected, local.requests)
                    }
                }
            }
        return ok + refused + discovery
    }
}
