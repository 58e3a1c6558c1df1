package dev.mcpauth

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import dev.mcpauth.uniffi.AuthInfo as NativeAuthInfo

/** Who is calling and with what rights: what a protected route hands to the application. */
data class AuthInfo(
    /** The access token itself. */
    val token: String,
    /** `iss`: who issued the token. */
    val issuer: String,
    /** `client_id` (or `azp`) of the token. */
    val clientId: String? = null,
    /** `sub`: whom the token represents. */
    val subject: String? = null,
    /** Scopes granted to the token. */
    val scopes: List<String> = emptyList(),
    /** `aud`: whom the token is for (a single audience is a one-element list). */
    val audience: List<String> = emptyList(),
    /** `exp`, seconds since the epoch. */
    val expiresAt: Long? = null,
    /** Every claim of the token. */
    val claims: JsonObject = JsonObject(emptyMap()),
    /**
     * The DPoP key binding (`cnf.jkt`, RFC 9449): the thumbprint of the key whose proof came
     * with the token on a DPoP route; `null` for bearer tokens.
     */
    val jkt: String? = null,
) {
    override fun toString(): String =
        "AuthInfo(issuer=$issuer, subject=$subject, clientId=$clientId, scopes=$scopes, audience=$audience, jkt=$jkt)"

    internal fun toNative(): NativeAuthInfo =
        NativeAuthInfo(token, issuer, clientId, subject, scopes, audience, expiresAt, claims.toString(), jkt)

    internal companion object {
        fun of(n: NativeAuthInfo): AuthInfo =
            AuthInfo(
                token = n.token,
                issuer = n.issuer,
                clientId = n.clientId,
                subject = n.subject,
                scopes = n.scopes,
                audience = n.audience,
                expiresAt = n.expiresAt,
                claims = Json.parseToJsonElement(n.claimsJson) as JsonObject,
                jkt = n.jkt,
            )
    }
}
