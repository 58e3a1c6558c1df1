package dev.mcpauth

import dev.mcpauth.sample.whoami
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The sample MCP server (sample/) in process: the Kotlin MCP SDK behind the guard, its tool reading the caller. */
class SampleServerTest {
    private val resource = "https://whoami.example.com/mcp"

    private fun rpc(
        url: String,
        token: String?,
        method: String,
        params: String = "{}",
    ): Response {
        val headers = mutableMapOf("Accept" to "application/json, text/event-stream", "Content-Type" to "application/json")
        token?.let { headers["Authorization"] = "Bearer $it" }
        return Http.send(url, "POST", headers, """{"jsonrpc":"2.0","id":1,"method":"$method","params":$params}""")
    }

    /** The JSON object a tool call answered with (its first text content). */
    private fun toolResult(reply: Response): JsonObject {
        val text =
            reply.json.jsonObject["result"]!!
                .jsonObject["content"]!!
                .jsonArray[0]
                .jsonObject["text"]!!
                .jsonPrimitive.content
        return Json.parseToJsonElement(text).jsonObject
    }

    @Test
    fun `whoami answers the caller of the token`() {
        LocalIssuer().use { issuer ->
            KtorServer { whoami(issuer.issuer, resource) }.use { server ->
                val mcp = "${server.url}/mcp"
                val refused = rpc(mcp, null, "tools/list")
                assertEquals(401, refused.status)
                assertEquals(
                    """Bearer resource_metadata="https://whoami.example.com/.well-known/oauth-protected-resource/mcp"""",
                    refused.header("WWW-Authenticate"),
                )

                val token = Tokens.accessToken(issuer.issuer, resource, "alice", "read:todos")
                val init =
                    rpc(
                        mcp,
                        token,
                        "initialize",
                        """{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}""",
                    )
                assertEquals(200, init.status, init.body)
                val called = rpc(mcp, token, "tools/call", """{"name":"whoami","arguments":{}}""")
                assertEquals(200, called.status, called.body)
                val me = toolResult(called)
                assertEquals("alice", me["subject"]!!.jsonPrimitive.content)
                assertEquals("client-1", me["clientId"]!!.jsonPrimitive.content)
                assertEquals(listOf("read:todos"), me["scopes"].strings())
                assertEquals(listOf(resource), me["audience"].strings())
            }
        }
    }

    @Test
    fun `add-todo needs create todos, checked before the MCP handler`() {
        LocalIssuer().use { issuer ->
            KtorServer { whoami(issuer.issuer, resource) }.use { server ->
                val mcp = "${server.url}/mcp"
                val add = """{"name":"add-todo","arguments":{"content":"milk"}}"""
                val reader = Tokens.accessToken(issuer.issuer, resource, "alice", "read:todos")
                val refused = rpc(mcp, reader, "tools/call", add)
                assertEquals(403, refused.status, refused.body)
                val challenge = refused.header("WWW-Authenticate")!!
                assertTrue(challenge.startsWith("Bearer error=\"insufficient_scope\""), challenge)
                assertTrue(challenge.contains("scope=\"create:todos\""), challenge)
                // Other calls with the same token still pass.
                assertEquals(200, rpc(mcp, reader, "tools/call", """{"name":"whoami","arguments":{}}""").status)

                val writer = Tokens.accessToken(issuer.issuer, resource, "alice", "read:todos create:todos")
                val added = rpc(mcp, writer, "tools/call", add)
                assertEquals(200, added.status, added.body)
                val todo = toolResult(added)
                assertEquals("milk", todo["content"]!!.jsonPrimitive.content)
                assertEquals("alice", todo["ownerId"]!!.jsonPrimitive.content)
            }
        }
    }
}
