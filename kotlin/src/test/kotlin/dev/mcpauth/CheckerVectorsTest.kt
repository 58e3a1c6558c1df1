package dev.mcpauth

import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import java.io.ByteArrayOutputStream
import java.io.PrintStream

/** tests/vectors/checker.json through the checker command, against metadata served on 127.0.0.1. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CheckerVectorsTest {
    private val vectors = Vectors.load("checker.json")
    private val server = JsonServer()
    private val base = server.url

    init {
        (vectors["documents"] as JsonObject).forEach { (path, document) -> server.serve(path, document.toString().replace("{base}", base)) }
    }

    @AfterAll
    fun stop() = server.close()

    private fun run(args: List<String>): Triple<Int, String, String> {
        val out = ByteArrayOutputStream()
        val err = ByteArrayOutputStream()
        val code = runCheck(args, PrintStream(out, true, "UTF-8"), PrintStream(err, true, "UTF-8"))
        return Triple(code, out.toString(Charsets.UTF_8), err.toString(Charsets.UTF_8))
    }

    @TestFactory
    fun checker(): List<DynamicTest> =
        (vectors["cases"] as JsonArray).map { case ->
            val c = case.jsonObject
            DynamicTest.dynamicTest(c["name"]!!.jsonPrimitive.content) {
                val args =
                    listOf("check", c["target"]!!.jsonPrimitive.content.replace("{base}", base)) +
                        (c["type"].stringOrNull()?.let { listOf("--type", it) } ?: emptyList())
                val (code, out, err) = run(args)
                val exit = c["exit_code"]!!.jsonPrimitive.int
                assertEquals(exit, code)
                val printed = if (exit == 2) err else out
                assertEquals("", if (exit == 2) out else err)
                val want = c["text"]!!.jsonArray.map { it.jsonPrimitive.content.replace("{base}", base) }
                assertEquals(want, printed.trimEnd('\n').split('\n'))
            }
        }

    @Test
    fun `a wrong command line is exit status 2 with the usage`() {
        val (code, out, err) = run(listOf("check", "--type", "saml", "https://issuer.example.com"))
        assertEquals(2, code)
        assertEquals("", out)
        assertEquals("Usage: mcp-auth check <issuer or metadata URL> [--type oauth|oidc]", err.lines().first())
        assertEquals(2, run(emptyList()).first)
    }
}
