package dev.mcpauth

import dev.mcpauth.sample.whoami
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.math.BigInteger
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.security.KeyPairGenerator
import java.security.MessageDigest
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Base64
import java.util.UUID

/** A DPoP client key (ES256, P-256) and the proofs it signs (RFC 9449 §4.2), on the real clock. */
class DpopClientKey {
    private val pair = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
    private val b64 = Base64.getUrlEncoder().withoutPadding()

    private fun coordinate(n: BigInteger): String =
        b64.encodeToString(
            n.toByteArray().takeLast(32).toByteArray().let {
                ByteArray(32 - it.size) +
                    it
            },
        )

    private val jwk: JsonObject =
        (pair.public as ECPublicKey).w.let { w ->
            // The RFC 7638 members, in lexicographic order, so the thumbprint hashes this text.
            buildJsonObject {
                put("crv", "P-256")
                put("kty", "EC")
                put("x", coordinate(w.affineX))
                put("y", coordinate(w.affineY))
            }
        }

    /** The RFC 7638 thumbprint a token bound to this key carries as `cnf.jkt`. */
    val thumbprint: String = b64.encodeToString(MessageDigest.getInstance("SHA-256").digest(jwk.toString().toByteArray()))

    fun proof(
        method: String,
        htu: String,
        accessToken: String,
        nonce: String? = null,
    ): String {
        val header =
            buildJsonObject {
                put("typ", "dpop+jwt")
                put("alg", "ES256")
                put("jwk", jwk)
            }
        val payload =
            buildJsonObject {
                put("jti", UUID.randomUUID().toString())
                put("htm", method)
                put("htu", htu)
                put("iat", System.currentTimeMillis() / 1000)
                put("ath", b64.encodeToString(MessageDigest.getInstance("SHA-256").digest(accessToken.toByteArray())))
                nonce?.let { put("nonce", it) }
            }
        val input = b64.encodeToString(header.toString().toByteArray()) + "." + b64.encodeToString(payload.toString().toByteArray())
        val signature =
            Signature.getInstance("SHA256withECDSAinP1363Format").run {
                initSign(pair.private)
                update(input.toByteArray())
                sign()
            }
        return input + "." + b64.encodeToString(signature)
    }
}

/**
 * The sample with DPoP on (what `MCP_AUTH_DPOP=allowed|required` turns on): the Kotlin MCP SDK
 * behind the guard, DPoP-bound tokens with proofs made on the real clock for the resource
 * identifier's URL (not the 127.0.0.1 address the server listens on).
 */
class SampleDpopTest {
    private val resource = "https://whoami.example.com/mcp"
    private val client: HttpClient = HttpClient.newHttpClient()
    private val key = DpopClientKey()

    private fun boundToken(issuer: String): String =
        Tokens.sign(
            buildJsonObject {
                put("iss", issuer)
                put("sub", "alice")
                put("aud", resource)
                put("client_id", "client-1")
                put("scope", "read:todos")
                put("iat", System.currentTimeMillis() / 1000 - 10)
                put("exp", System.currentTimeMillis() / 1000 + 600)
                put("cnf", buildJsonObject { put("jkt", key.thumbprint) })
            },
        )

    private fun rpc(
        url: String,
        authorization: String?,
        proof: String?,
        method: String,
        params: String = "{}",
    ): HttpResponse<String> {
        val request =
            HttpRequest
                .newBuilder(URI(url))
                .timeout(java.time.Duration.ofSeconds(30))
                .header("Accept", "application/json, text/event-stream")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""{"jsonrpc":"2.0","id":1,"method":"$method","params":$params}"""))
        authorization?.let { request.header("Authorization", it) }
        proof?.let { request.header("DPoP", it) }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString())
    }

    @Test
    fun `allowed, a bound token with a proof of its key reaches the tool and a proof counts once`() {
        LocalIssuer().use { issuer ->
            KtorServer { whoami(issuer.issuer, resource, dpop = DpopMode.ALLOWED) }.use { server ->
                val mcp = "${server.url}/mcp"
                val token = boundToken(issuer.issuer)
                val proof = key.proof("POST", resource, token)
                val called = rpc(mcp, "DPoP $token", proof, "tools/call", """{"name":"whoami","arguments":{}}""")
                assertEquals(200, called.statusCode(), called.body())
                val text =
                    Json
                        .parseToJsonElement(called.body())
                        .jsonObject["result"]!!
                        .jsonObject["content"]!!
                        .jsonArray[0]
                        .jsonObject["text"]!!
                        .jsonPrimitive.content
                assertEquals(
                    "alice",
                    Json
                        .parseToJsonElement(text)
                        .jsonObject["subject"]!!
                        .jsonPrimitive.content,
                )

                val replayed = rpc(mcp, "DPoP $token", proof, "tools/list")
                assertEquals(401, replayed.statusCode(), replayed.body())
                assertEquals(
                    "invalid_dpop_proof",
                    Json
                        .parseToJsonElement(replayed.body())
                        .jsonObject["error"]!!
                        .jsonPrimitive.content,
                )

                // The bound token without its proof is worth nothing, in either scheme.
                assertEquals(401, rpc(mcp, "Bearer $token", null, "tools/list").statusCode())
                assertEquals(401, rpc(mcp, "DPoP $token", null, "tools/list").statusCode())
                // Plain bearer tokens still pass on an allowed route.
                val bearer = Tokens.accessToken(issuer.issuer, resource, "bob", "read:todos")
                assertEquals(200, rpc(mcp, "Bearer $bearer", null, "tools/list").statusCode())

                val none = rpc(mcp, null, null, "tools/list")
                assertEquals(401, none.statusCode())
                val lines = none.headers().allValues("WWW-Authenticate")
                assertEquals(2, lines.size, "$lines")
                assertTrue(lines[1].startsWith("DPoP algs="), lines[1])

                val metadata = Http.send("${server.url}/.well-known/oauth-protected-resource/mcp").json.jsonObject
                assertEquals(JsonPrimitive(false), metadata["dpop_bound_access_tokens_required"])
                assertTrue(metadata["dpop_signing_alg_values_supported"]!!.jsonArray.contains(JsonPrimitive("ES256")))
            }
        }
    }

    @Test
    fun `required, bearer tokens are refused and the metadata says so`() {
        LocalIssuer().use { issuer ->
            KtorServer { whoami(issuer.issuer, resource, dpop = DpopMode.REQUIRED) }.use { server ->
                val mcp = "${server.url}/mcp"
                val bearer = Tokens.accessToken(issuer.issuer, resource, "bob", "read:todos")
                val refused = rpc(mcp, "Bearer $bearer", null, "tools/list")
                assertEquals(401, refused.statusCode(), refused.body())
                val lines = refused.headers().allValues("WWW-Authenticate")
                assertEquals(1, lines.size, "$lines")
                assertTrue(lines[0].startsWith("DPoP algs="), lines[0])

                val token = boundToken(issuer.issuer)
                val ok = rpc(mcp, "DPoP $token", key.proof("POST", resource, token), "tools/list")
                assertEquals(200, ok.statusCode(), ok.body())

                val metadata = Http.send("${server.url}/.well-known/oauth-protected-resource/mcp").json.jsonObject
                assertEquals(JsonPrimitive(true), metadata["dpop_bound_access_tokens_required"])
            }
        }
    }
}
