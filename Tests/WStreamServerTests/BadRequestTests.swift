import FoundationEssentials
import Testing
import TestSupport

/// Every bad request gets a 4xx with an OpenAI-style error body naming the field at fault — never a 500 or a crash.
@Suite struct BadRequestTests {
    struct Case: Sendable, CustomStringConvertible {
        var path = "/v1/chat/completions"
        var body: String
        var status: Int
        var param: String?
        var code: String?
        var description: String { "\(path) \(body.prefix(80))" }
    }

    static let chat = #""model":"stories","messages":[{"role":"user","content":"Hi"}]"#

    static let cases: [Case] = [
        Case(body: #"{"model":"stories","messages":[{"role":"user""#, status: 400, code: "invalid_json"),
        Case(body: "not json at all", status: 400, code: "invalid_json"),
        Case(body: #"[1,2,3]"#, status: 400, code: "invalid_json"),
        Case(body: #"{"model":"stories","messages":"Hi"}"#, status: 400, param: "messages"),
        Case(body: #"{"model":42,"messages":[]}"#, status: 400, param: "model"),
        Case(body: #"{\#(chat),"temperature":"hot"}"#, status: 400, param: "temperature"),
        Case(body: #"{\#(chat),"max_tokens":"many"}"#, status: 400, param: "max_tokens"),
        Case(body: #"{\#(chat),"stream":"yes"}"#, status: 400, param: "stream"),
        Case(body: #"{"model":"stories","messages":[{"role":"user","content":7}]}"#, status: 400, param: "messages.0.content"),
        Case(body: #"{"model":"stories","messages":[{"content":"Hi"}]}"#, status: 400, param: "messages.0.role"),
        Case(body: #"{"model":"stories","messages":[{"role":"wizard","content":"Hi"}]}"#, status: 400, param: "messages.0.role"),
        Case(body: #"{"model":"nonexistent","messages":[{"role":"user","content":"Hi"}]}"#, status: 404, param: "model", code: "model_not_found"),
        Case(body: #"{"model":"stories"}"#, status: 400, param: "messages"),
        Case(body: #"{"model":"stories","messages":[]}"#, status: 400, param: "messages"),
        Case(body: #"{"messages":[{"role":"user","content":"Hi"}]}"#, status: 400, param: "model"),
        Case(body: #"{\#(chat),"max_tokens":0}"#, status: 400, param: "max_tokens"),
        Case(body: #"{\#(chat),"max_tokens":-5}"#, status: 400, param: "max_tokens"),
        Case(body: #"{\#(chat),"max_completion_tokens":100000}"#, status: 400, param: "max_completion_tokens", code: "context_length_exceeded"),
        Case(body: #"{\#(chat),"max_tokens":256}"#, status: 400, param: "max_tokens", code: "context_length_exceeded"),
        Case(body: #"{\#(chat),"n":2}"#, status: 400, param: "n", code: "unsupported_parameter"),
        Case(body: #"{\#(chat),"temperature":3}"#, status: 400, param: "temperature"),
        Case(body: #"{\#(chat),"top_p":1.5}"#, status: 400, param: "top_p"),
        Case(body: #"{\#(chat),"stop":["a","b","c","d","e"]}"#, status: 400, param: "stop"),
        Case(body: #"{\#(chat),"stop":7}"#, status: 400, param: "stop"),
        Case(body: #"{\#(chat),"logprobs":true}"#, status: 400, param: "logprobs"),
        Case(body: #"{\#(chat),"response_format":{"type":"json_object"}}"#, status: 400, param: "response_format"),
        Case(body: #"{"model":"stories","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#,
             status: 400, param: "messages.0.content.0"),
        Case(body: #"{"model":"stories","messages":[{"role":"user","content":"\#(String(repeating: "Once upon a time ", count: 80))"}]}"#,
             status: 400, param: "messages", code: "context_length_exceeded"),
        Case(path: "/v1/completions", body: #"{"model":"stories"}"#, status: 400, param: "prompt"),
        Case(path: "/v1/completions", body: #"{"model":"stories","prompt":3}"#, status: 400, param: "prompt"),
        Case(path: "/v1/completions", body: #"{"model":"stories","prompt":["a","b"]}"#, status: 400, param: "prompt"),
        Case(path: "/v1/completions", body: #"{"model":"stories","prompt":[1,99999]}"#, status: 400, param: "prompt"),
        Case(path: "/v1/completions", body: #"{"model":"lfm2","prompt":""}"#, status: 400, param: "prompt"),
        Case(path: "/v1/completions", body: #"{"model":"stories","prompt":"\#(String(repeating: "Once upon a time ", count: 80))"}"#,
             status: 400, param: "prompt", code: "context_length_exceeded"),
        Case(path: "/v1/completions", body: #"{"model":"stories","prompt":"Hi","echo":true}"#, status: 400, param: "echo"),
        Case(path: "/v1/completions", body: #"{"model":"stories","prompt":"Hi","n":3}"#, status: 400, param: "n"),
        Case(path: "/v1/nothing", body: "{}", status: 404),
    ]

    @Test func everyBadRequestGetsItsStatusAndAnOpenAIErrorBody() throws {
        let server = try ServerProcess(["--model", "stories=\(try ServedModels.stories())", "--model", "lfm2=\(try ServedModels.lfm2())",
                                        "--context", "256", "--threads", "1", "--max-body", "64K"])
        for item in Self.cases {
            let result = try server.post(item.path, item.body)
            #expect(result.status == item.status, "\(item): \(result)")
            #expect(result.headers["content-type"] == "application/json", "\(item): \(result)")
            guard let body = try? JSONDecoder().decode(ErrorReply.self, from: Data(result.body)) else {
                Issue.record("\(item): not an OpenAI error body: \(result)")
                continue
            }
            #expect(!body.error.message.isEmpty && !body.error.type.isEmpty)
            if let param = item.param { #expect(body.error.param == param, "\(item): \(result)") }
            if let code = item.code { #expect(body.error.code == code, "\(item): \(result)") }
        }
        let large = try server.post("/v1/completions", #"{"model":"stories","prompt":"\#(String(repeating: "x", count: 70_000))"}"#)
        #expect(large.status == 413 && large.text.contains("limit"), "\(large)")
        #expect(try server.get("/health").status == 200, "the server is still up")
        let failures = server.stderr.split(separator: "\n").filter { $0.contains("status=5") }
        #expect(failures.isEmpty, "requests answered with 5xx: \(failures)")
    }
}

/// OpenAI's error body.
struct ErrorReply: Decodable {
    struct Detail: Decodable {
        var message: String
        var type: String
        var param: String?
        var code: String?
    }
    var error: Detail
}
