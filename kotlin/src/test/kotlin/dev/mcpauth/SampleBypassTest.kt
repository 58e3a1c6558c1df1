package dev.mcpauth

import dev.mcpauth.sample.whoami
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/**
 * Requests the Kotlin MCP SDK would run but that a guard reading the body on its own could see
 * differently: the sample (the real SDK behind the guard) must refuse them before any tool runs.
 * Each test starts a fresh sample, so "nothing ran" shows as the next todo being `todo-1`.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SampleBypassTest {
    private val resource = "https://whoami.example.com/mcp"
    private val issuer = LocalIssuer()

    @AfterAll
    fun stop() = issuer.close()

    private val reader get() = Tokens.accessToken(issuer.issuer, resource, "mallory", "read:todos")
    private val writer get() = Tokens.accessToken(issuer.issuer, resource, "mallory", "read:todos create:todos")

    private fun post(
        url: String,
        token: String,
        body: ByteArray,
        contentType: String = "application/json",
        extra: Map<String, String> = emptyMap(),
    ): Response {
        val headers =
            mapOf(
                "Accept" to "application/json, text/event-stream",
                "Content-Type" to contentType,
                "Authorization" to "Bearer $token",
            ) + extra
        return Http.sendBytes(url, "POST", headers, body)
    }

    private fun sample(test: (mcp: String) -> Unit) = KtorServer { whoami(issuer.issuer, resource) }.use { test("${it.url}/mcp") }

    /** No tool ran before: the first todo added now gets the first id. */
    private fun assertNoTodoWasAdded(mcp: String) {
        val add = """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"add-todo","arguments":{"content":"x"}}}"""
        val r = post(mcp, writer, add.toByteArray())
        assertEquals(200, r.status, r.body)
        val text =
            r.json.jsonObject["result"]!!
                .jsonObject["content"]!!
                .jsonArray[0]
                .jsonObject["text"]!!
                .jsonPrimitive.content
        assertEquals(
            "todo-1",
            Json
                .parseToJsonElement(text)
                .jsonObject["id"]!!
                .jsonPrimitive.content,
        )
    }

    private fun assertParseError(r: Response) {
        assertEquals(400, r.status, r.body)
        assertEquals(
            -32700,
            r.json.jsonObject["error"]!!
                .jsonObject["code"]!!
                .jsonPrimitive.int,
            r.body,
        )
        assertNull(r.header("WWW-Authenticate"))
    }

    @Test
    fun `a lenient JSON body (unquoted key) is refused, not run with the default scopes`() =
        sample { mcp ->
            // The SDK reads JSON leniently and would call add-todo.
            val body = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{name:"add-todo","arguments":{"content":"milk"}}}"""
            assertParseError(post(mcp, reader, body.toByteArray()))
            assertNoTodoWasAdded(mcp)
        }

    @Test
    fun `UTF-8 bytes labelled charset=UTF-16 are refused`() =
        sample { mcp ->
            // The SDK decodes every body as UTF-8, whatever the label says.
            val body = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo","arguments":{"content":"milk"}}}"""
            assertParseError(post(mcp, reader, body.toByteArray(Charsets.UTF_8), contentType = "application/json; charset=UTF-16"))
            assertNoTodoWasAdded(mcp)
        }

    @Test
    fun `every message of a batch is checked, not only the first guarded tool`() =
        sample { mcp ->
            // The token may add todos but not delete them; the SDK runs both messages.
            val body =
                """[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo","arguments":{"content":"milk"}}},""" +
                    """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete-todo","arguments":{"id":"todo-1"}}}]"""
            val r = post(mcp, writer, body.toByteArray())
            assertEquals(403, r.status, r.body)
            val challenge = r.header("WWW-Authenticate")!!
            assertTrue(challenge.startsWith("Bearer error=\"insufficient_scope\""), challenge)
            assertTrue(challenge.contains("delete:todos"), challenge)
            assertNoTodoWasAdded(mcp)
        }

    @Test
    fun `a key twice is refused`() =
        sample { mcp ->
            val body = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"add-todo","arguments":{}}}"""
            assertParseError(post(mcp, reader, body.toByteArray()))
            assertNoTodoWasAdded(mcp)
        }

    @Test
    fun `Mcp-Name that differs from the body is refused`() =
        sample { mcp ->
            val body = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo","arguments":{"content":"milk"}}}"""
            val r = post(mcp, reader, body.toByteArray(), extra = mapOf("Mcp-Method" to "tools/call", "Mcp-Name" to "whoami"))
            assertEquals(400, r.status, r.body)
            assertEquals(
                -32020,
                r.json.jsonObject["error"]!!
                    .jsonObject["code"]!!
                    .jsonPrimitive.int,
                r.body,
            )
            assertNull(r.header("WWW-Authenticate"))
            assertNoTodoWasAdded(mcp)
        }
}
