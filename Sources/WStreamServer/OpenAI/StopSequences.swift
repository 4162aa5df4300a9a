/// OpenAI's `stop`: one string or a list of up to four.
struct StopSequences: Decodable, Equatable {
    var values: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            values = [single]
        } else if let list = try? container.decode([String].self) {
            values = list
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a string or a list of strings")
        }
    }
}
