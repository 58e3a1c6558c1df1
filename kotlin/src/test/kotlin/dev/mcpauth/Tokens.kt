package dev.mcpauth

import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.put
import java.io.File
import java.security.KeyFactory
import java.security.Signature
import java.security.spec.PKCS8EncodedKeySpec
import java.util.Base64

/** RS256 tokens signed with the vectors' test key `rsa-1` (tests/vectors/keys, test-only). */
object Tokens {
    private val key =
        run {
            val pem = File(System.getProperty("mcpauth.vectors") ?: "../tests/vectors", "keys/rsa1.pem").readText()
            val der = Base64.getMimeDecoder().decode(pem.lines().filterNot { it.startsWith("-----") }.joinToString(""))
            KeyFactory.getInstance("RSA").generatePrivate(PKCS8EncodedKeySpec(der))
        }
    private val b64 = Base64.getUrlEncoder().withoutPadding()

    /** The JWK set holding `rsa-1`'s public key. */
    val jwks: JsonObject =
        JsonObject(mapOf("keys" to JsonArray(Vectors.load("tokens.json")["jwks"]!!.jsonObject["keys"] as JsonArray)))

    fun sign(claims: JsonObject): String {
        val header = """{"alg":"RS256","typ":"at+jwt","kid":"rsa-1"}"""
        val input = b64.encodeToString(header.toByteArray()) + "." + b64.encodeToString(claims.toString().toByteArray())
        val signature =
            Signature.getInstance("SHA256withRSA").run {
                initSign(key)
                update(input.toByteArray())
                sign()
            }
        return input + "." + b64.encodeToString(signature)
    }

    fun accessToken(
        issuer: String,
        audience: String,
        subject: String,
        scope: String,
    ): String =
        sign(
            buildJsonObject {
                put("iss", issuer)
                put("sub", subject)
                put("aud", audience)
                put("client_id", "client-1")
                put("scope", scope)
                put("iat", System.currentTimeMillis() / 1000 - 10)
                put("exp", System.currentTimeMillis() / 1000 + 600)
            },
        )
}

/** A minimal OpenID provider on 127.0.0.1: discovery document and JWKS, requests recorded. */
class LocalIssuer(
    metadataIssuer: ((String) -> String)? = null,
) : AutoCloseable {
    private val http = JsonServer()
    val issuer: String = http.url
    val requests: List<String> get() = http.requests.toList()

    init {
        val metadata =
            buildJsonObject {
                put("issuer", metadataIssuer?.invoke(issuer) ?: issuer)
                put("authorization_endpoint", "$issuer/auth")
                put("token_endpoint", "$issuer/token")
                put("registration_endpoint", "$issuer/reg")
                put("jwks_uri", "$issuer/jwks.json")
                put("response_types_supported", JsonArray(listOf(JsonPrimitive("code"))))
                put("code_challenge_methods_supported", JsonArray(listOf(JsonPrimitive("S256"))))
            }
        http.serve("/.well-known/openid-configuration", metadata.toString())
        http.serve("/jwks.json", Tokens.jwks.toString())
    }

    override fun close() = http.close()
}
