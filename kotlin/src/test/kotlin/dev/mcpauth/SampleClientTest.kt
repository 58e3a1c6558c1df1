package dev.mcpauth

import dev.mcpauth.sample.whoami
import io.ktor.client.HttpClient
import io.ktor.client.plugins.HttpSend
import io.ktor.client.plugins.plugin
import io.ktor.client.request.header
import io.ktor.http.HttpHeaders
import io.modelcontextprotocol.kotlin.sdk.client.Client
import io.modelcontextprotocol.kotlin.sdk.client.StreamableHttpClientTransport
import io.modelcontextprotocol.kotlin.sdk.types.CallToolResult
import io.modelcontextprotocol.kotlin.sdk.types.Implementation
import io.modelcontextprotocol.kotlin.sdk.types.TextContent
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Test
import java.util.concurrent.CopyOnWriteArrayList
import io.ktor.client.engine.cio.CIO as ClientCIO

/**
 * The Kotlin MCP SDK's client against the sample, stateless and stateful: a `tools/call` of
 * `add-todo` with a token lacking `create:todos` is refused with the step-up challenge before the
 * tool runs; the same client, now sending a token with the scope, succeeds (in the same session
 * when stateful).
 */
class SampleClientTest {
    private val resource = "https://whoami.example.com/mcp"
    private val prm = "https://whoami.example.com/.well-known/oauth-protected-resource/mcp"

    private data class Exchange(
        val method: String,
        val status: Int,
        val session: String?,
        val challenge: String?,
    )

    private fun json(result: CallToolResult): JsonObject = Json.parseToJsonElement((result.content[0] as TextContent).text).jsonObject

    private fun stepUp(stateful: Boolean) =
        LocalIssuer().use { issuer ->
            KtorServer { whoami(issuer.issuer, resource, stateful) }.use { server ->
                val seen = CopyOnWriteArrayList<Exchange>()
                var token = Tokens.accessToken(issuer.issuer, resource, "bob", "read:todos")
                val http = HttpClient(ClientCIO)
                http.plugin(HttpSend).intercept { request ->
                    val call = execute(request)
                    val r = call.response
                    seen +=
                        Exchange(
                            request.method.value,
                            r.status.value,
                            request.headers["Mcp-Session-Id"],
                            r.headers[HttpHeaders.WWWAuthenticate],
                        )
                    call
                }
                val transport =
                    StreamableHttpClientTransport(
                        http,
                        "${server.url}/mcp",
                        requestBuilder = { header(HttpHeaders.Authorization, "Bearer $token") },
                    )
                val client = Client(Implementation(name = "step-up", version = "1.0.0"))
                runBlocking {
                    client.connect(transport)
                    assertEquals("bob", json(client.callTool("whoami", emptyMap()))["subject"]!!.jsonPrimitive.content)

                    val failure = runCatching { client.callTool("add-todo", mapOf("content" to "milk")) }.exceptionOrNull()
                    assertNotNull(failure, "add-todo ran without create:todos")
                    val refused = seen.single { it.status == 403 }
                    val description = "The token does not contain the necessary scopes for this request."
                    assertEquals(
                        """Bearer error="insufficient_scope", error_description="$description", scope="create:todos", resource_metadata="$prm"""",
                        refused.challenge,
                    )

                    token = Tokens.accessToken(issuer.issuer, resource, "bob", "read:todos create:todos")
                    val todo = json(client.callTool("add-todo", mapOf("content" to "milk")))
                    // The first todo: the refused call never reached the tool.
                    assertEquals(
                        listOf("todo-1", "milk", "bob"),
                        listOf("id", "content", "ownerId").map { todo[it]!!.jsonPrimitive.content },
                    )
                    client.close()
                }
                http.close()
                if (stateful) {
                    // Every POST after initialize went to the one session, the refused one and the retry included.
                    val sessions = seen.filter { it.method == "POST" }.drop(1).map { it.session }
                    assertEquals(1, sessions.toSet().size, seen.toString())
                    assertNotNull(sessions.first(), seen.toString())
                }
            }
        }

    @Test
    fun `stateless streamable HTTP, step-up on a per-tool 403`() = stepUp(stateful = false)

    @Test
    fun `stateful streamable HTTP, step-up on a per-tool 403 within the session`() = stepUp(stateful = true)
}
