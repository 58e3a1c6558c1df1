package dev.mcpauth.ktor

import dev.mcpauth.BearerAuth
import io.ktor.http.HttpMethod
import io.ktor.server.application.ApplicationCall
import io.ktor.server.request.httpMethod
import io.ktor.server.request.receiveText
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive

/**
 * A guard per MCP tool, for [McpBearerAuthConfig.guardOf]: a `tools/call` of a tool in [tools]
 * is checked by that tool's guard (typically with `requiredScopes`), any other request by [default].
 *
 * A scope error raised inside a tool would reach the client as a tool result with HTTP 200.
 * Checked here, before the MCP handler, a missing scope becomes HTTP 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`, which MCP clients answer by
 * asking the user for a token with more scopes (step-up authorization).
 *
 * The MCP handler reads the body again, so install Ktor's `DoubleReceive` on the route.
 */
fun mcpToolGuards(
    default: BearerAuth,
    tools: Map<String, BearerAuth>,
): suspend (ApplicationCall) -> BearerAuth =
    guard@{ call ->
        if (tools.isEmpty() || call.request.httpMethod != HttpMethod.Post) return@guard default
        val body = runCatching { Json.parseToJsonElement(call.receiveText()) }.getOrNull()
        val messages = body as? JsonArray ?: listOfNotNull(body)
        messages.firstNotNullOfOrNull { toolCalled(it)?.let(tools::get) } ?: default
    }

private fun toolCalled(message: JsonElement): String? {
    val m = message as? JsonObject ?: return null
    if ((m["method"] as? JsonPrimitive)?.content != "tools/call") return null
    return ((m["params"] as? JsonObject)?.get("name") as? JsonPrimitive)?.content
}
