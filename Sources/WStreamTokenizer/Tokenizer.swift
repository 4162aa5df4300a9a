import WStreamFormat

/// Turns text into token ids and back, as the model's metadata describes.
///
/// Encoding: special tokens are cut out first (when asked), then each plain stretch is prepared
/// (Metaspace: `▁` for spaces and a dummy prefix; ByteLevel: split by the pattern, bytes as characters),
/// turned into initial symbols and merged by `BytePairMerger`: by score for `.sentencePiece` (llama2.c's
/// `encode()`), by merge rank for `.bytePairEncoding` (Hugging Face BPE).
public final class Tokenizer: Sendable {
    public let spec: TokenizerSpec
    /// Ids by token text (UTF-8 bytes as the vocabulary spells them).
    private let ids: VocabularyIndex
    /// Ids of single-byte token texts, -1 where none: the fast path for ASCII characters.
    private let singleByteIds: [Int32]
    /// The bytes each token stands for in decoded text; empty for control tokens.
    private let pieces: TokenStrings
    private let merger: BytePairMerger
    /// `<0xXX>` token ids by byte, -1 where missing (Metaspace byte fallback).
    private let byteFallbackIds: [Int32]
    /// ByteLevel: the id of each byte's one-character token.
    private let byteLevelIds: [Int32]
    /// Llama 3 (`ignore_merges`): a ByteLevel word that is a whole token is taken as it is, without merging.
    private let wholeWordIds: VocabularyIndex?
    private let splitter: PreTokenSplitter?
    private let specials: SpecialTokenMatcher
    /// SentencePiece's dummy prefix is removed again when decoding the first piece (or the one after BOS).
    private let stripsPrefixSpace: Bool

    /// Builds the lookup tables for `spec`.
    /// - Parameter spec: the tokenizer description, from an importer or a `.wst` file.
    /// - Throws: `TokenizerError` when the spec is inconsistent (scores missing, merges naming unknown tokens,
    ///   ids out of range, ByteLevel alphabet incomplete).
    public init(spec: TokenizerSpec) throws {
        self.spec = spec
        let count = spec.tokens.count
        for (field, id) in [("BOS", spec.bosTokenId), ("EOS", spec.eosTokenId), ("unknown", spec.unknownTokenId)]
            + spec.specialTokenIds.map({ ("special", Optional($0)) }) + spec.extraStopTokenIds.map({ ("stop", Optional($0)) })
        {
            if let id, !(0..<count).contains(id) {
                throw TokenizerError.idOutOfRange(field: field, id: id, vocabularySize: count)
            }
        }
        func type(_ id: Int) -> TokenizerSpec.TokenType { id < spec.tokenTypes.count ? spec.tokenTypes[id] : .normal }

        var texts = TokenStrings()
        for token in spec.tokens { texts.append(token.utf8) }
        let ids = VocabularyIndex(texts)
        self.ids = ids
        var singleByteIds = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 { singleByteIds[byte] = ids.id([UInt8(byte)]) ?? -1 }
        self.singleByteIds = singleByteIds

        var byteFallbackIds = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            let hex = String(byte, radix: 16, uppercase: true)
            byteFallbackIds[byte] = ids.id(Array("<0x\(hex.count == 1 ? "0" : "")\(hex)>".utf8)) ?? -1
        }
        self.byteFallbackIds = byteFallbackIds

        let byteLevel = spec.preTokenizer == .byteLevel
        pieces = Self.decodedPieces(spec, texts: texts, type: type)

        switch spec.model {
        case .sentencePiece:
            guard spec.scores.count == count else {
                throw TokenizerError.scoreCountMismatch(tokens: count, scores: spec.scores.count)
            }
            merger = BytePairMerger(pairs: Self.scoredPairs(texts, ids: ids, scores: spec.scores, type: type))
        case .bytePairEncoding:
            merger = BytePairMerger(pairs: try Self.rankedPairs(spec.merges, ids: ids))
        }

        if byteLevel {
            byteLevelIds = try (0..<256).map { byte in
                let character = String(ByteLevelAlphabet.characters[byte])
                guard let id = ids.id(Array(character.utf8)) else {
                    throw TokenizerError.missingByteLevelToken(byte: UInt8(byte), character: character)
                }
                return id
            }
            splitter = PreTokenSplitter(pattern: spec.splitPattern ?? .gpt2)
        } else {
            byteLevelIds = []
            splitter = nil
        }
        wholeWordIds = byteLevel && spec.splitPattern == .llama3 ? VocabularyIndex(pieces) { type($0) == .normal } : nil
        // Control and user-defined tokens are matched too: GGUF vocabularies mark them by type, not by list.
        let matched = Set(spec.specialTokenIds).union((0..<count).filter { [.control, .userDefined].contains(type($0)) })
        specials = SpecialTokenMatcher(matched.sorted().map { (Array(texts[$0]), Int32($0)) })
        stripsPrefixSpace = !byteLevel && spec.addPrefixSpace
    }

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { spec.tokens.count }

    /// Ids for `text`; BOS (and EOS) added when `addSpecialTokens` and the spec says so.
    /// Special tokens spelled in the text (e.g. `<|im_start|>`) become their ids when `parseSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool = true, parseSpecialTokens: Bool = false) -> [Int] {
        var output: [Int32] = []
        if addSpecialTokens, spec.addBosToken, let bos = spec.bosTokenId { output.append(Int32(bos)) }
        let bytes = Array(text.utf8)
        let segments: [SpecialTokenMatcher.Segment] =
            parseSpecialTokens && !specials.isEmpty ? specials.segments(bytes) : [.text(0..<bytes.count)]
        var cache: [ByteString: [Int32]] = [:]
        // The dummy prefix goes at the start of the text and after each special token, as llama.cpp does.
        var startsText = true
        for segment in segments {
            switch segment {
            case .special(let id):
                output.append(id)
                startsText = true
            case .text(let range):
                if splitter != nil {
                    encodeByteLevel(bytes[range], atStart: startsText, into: &output, cache: &cache)
                } else {
                    encodeMetaspace(bytes[range], atStart: startsText, into: &output)
                }
                startsText = false
            }
        }
        if addSpecialTokens, spec.addEosToken, let eos = spec.eosTokenId { output.append(Int32(eos)) }
        return output.map(Int.init)
    }

    /// Text of `ids` (control tokens omitted). A SentencePiece dummy-prefix space is dropped from the first piece
    /// and from the piece after BOS.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        var previous: Int?
        for id in ids {
            appendPiece(id, after: previous, to: &bytes)
            previous = id
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Ids that end generation (EOS and the spec's extra stop ids).
    public var stopTokenIds: Set<Int> {
        Set(spec.extraStopTokenIds + (spec.eosTokenId.map { [$0] } ?? []))
    }

    /// Appends the bytes of token `id`; `previous` is the token before it (nil at the start of text).
    func appendPiece(_ id: Int, after previous: Int?, to bytes: inout [UInt8]) {
        guard id >= 0, id < pieces.count else { return }
        let piece = pieces[id]
        if stripsPrefixSpace, previous == nil || previous == spec.bosTokenId, piece.first == UInt8(ascii: " ") {
            bytes += piece.dropFirst()
        } else {
            bytes += piece
        }
    }

    // MARK: - Encoding

    private static let metaspace: [UInt8] = Array("▁".utf8)

    /// llama2.c's preparation: dummy prefix, spaces as `▁`, each UTF-8 character a token or its bytes.
    private func encodeMetaspace(_ text: ArraySlice<UInt8>, atStart: Bool, into output: inout [Int32]) {
        guard !text.isEmpty else { return }
        var normalized: [UInt8] = []
        normalized.reserveCapacity(text.count + 3)
        if atStart, spec.addPrefixSpace { normalized += Self.metaspace }
        for byte in text {
            if byte == UInt8(ascii: " ") { normalized += Self.metaspace } else { normalized.append(byte) }
        }
        let fallback = spec.byteFallback || spec.model == .sentencePiece
        var symbols: [Int32] = []
        symbols.reserveCapacity(normalized.count)
        var start = 0
        while start < normalized.count {
            var end = start + 1
            while end < normalized.count, end - start < 4, normalized[end] & 0xC0 == 0x80 { end += 1 }
            let id = end - start == 1 ? singleByteIds[Int(normalized[start])] : (ids.id(normalized[start..<end]) ?? -1)
            if id >= 0 {
                symbols.append(id)
            } else if fallback, normalized[start..<end].allSatisfy({ byteFallbackIds[Int($0)] >= 0 }) {
                for byte in normalized[start..<end] { symbols.append(byteFallbackIds[Int(byte)]) }
            } else if let unknown = spec.unknownTokenId {
                symbols.append(Int32(unknown))
            }
            start = end
        }
        merger.merge(&symbols)
        output += symbols
    }

    /// GPT-2 preparation: split into words by the pattern, each word's bytes as ByteLevel characters, then merge.
    private func encodeByteLevel(
        _ text: ArraySlice<UInt8>, atStart: Bool, into output: inout [Int32], cache: inout [ByteString: [Int32]]
    ) {
        guard !text.isEmpty, let splitter else { return }
        var bytes = Array(text)
        if atStart, spec.addPrefixSpace, bytes.first != UInt8(ascii: " ") { bytes.insert(UInt8(ascii: " "), at: 0) }
        let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        // Byte offset of each scalar (and of the end), to cut words out of `bytes` directly.
        var offsets: [Int] = []
        offsets.reserveCapacity(scalars.count + 1)
        for (index, byte) in bytes.enumerated() where byte & 0xC0 != 0x80 { offsets.append(index) }
        offsets.append(bytes.count)
        for range in splitter.split(scalars) {
            let word = ByteString(bytes[offsets[range.lowerBound]..<offsets[range.upperBound]])
            if let known = cache[word] {
                output += known
                continue
            }
            var symbols: [Int32]
            if let whole = wholeWordIds?.id(word.bytes) {
                symbols = [whole]
            } else {
                symbols = word.bytes.map { byteLevelIds[Int($0)] }
                merger.merge(&symbols)
            }
            cache[word] = symbols
            output += symbols
        }
    }

    // MARK: - Tables

    /// What each token stands for in decoded text: `▁` as space, `<0xXX>` as its byte, ByteLevel characters
    /// as their bytes, added tokens verbatim, control and special tokens as nothing.
    private static func decodedPieces(
        _ spec: TokenizerSpec, texts: TokenStrings, type: (Int) -> TokenizerSpec.TokenType
    ) -> TokenStrings {
        let skipped = Set(spec.specialTokenIds)
        let byteLevel = spec.preTokenizer == .byteLevel
        var pieces = TokenStrings()
        for id in 0..<texts.count {
            let text = texts[id]
            switch type(id) {
            case .control, .unused: pieces.append([])
            case _ where skipped.contains(id): pieces.append([])
            case .userDefined: pieces.append(text)
            case .byte: pieces.append(fallbackByte(text).map { [$0] } ?? Array(text))
            case .normal, .unknown:
                if !byteLevel, spec.byteFallback || spec.model == .sentencePiece, let byte = fallbackByte(text) {
                    pieces.append([byte])
                } else if byteLevel {
                    appendByteLevelBytes(spec.tokens[id], to: &pieces)
                } else {
                    pieces.append(metaspaceBytes(text))
                }
            }
        }
        return pieces
    }

    /// SentencePiece: every way of writing a normal token as two normal tokens, prioritised by its score.
    private static func scoredPairs(
        _ texts: TokenStrings, ids: VocabularyIndex, scores: [Float], type: (Int) -> TokenizerSpec.TokenType
    ) -> [UInt64: PairMerge] {
        var pairs: [UInt64: PairMerge] = [:]
        for id in 0..<texts.count where texts[id].count > 1 && type(id) == .normal {
            let text = texts[id]
            for cut in (text.startIndex + 1)..<text.endIndex {
                guard let left = ids.id(text[..<cut]), type(Int(left)) == .normal,
                    let right = ids.id(text[cut...]), type(Int(right)) == .normal
                else { continue }
                pairs[BytePairMerger.key(left, right)] = PairMerge(merged: Int32(id), priority: scores[id])
            }
        }
        return pairs
    }

    /// Hugging Face BPE: merge `rank` of `"left right"` has priority `-rank`.
    private static func rankedPairs(_ merges: [String], ids: VocabularyIndex) throws -> [UInt64: PairMerge] {
        var pairs = [UInt64: PairMerge](minimumCapacity: merges.count)
        var bytes: [UInt8] = []
        var joined: [UInt8] = []
        for (rank, merge) in merges.enumerated() {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: merge.utf8)
            var found: (Int32, Int32, Int32)?
            // Normally one space separates the two; a token that itself holds a space makes other cuts possible.
            for cut in bytes.indices where bytes[cut] == UInt8(ascii: " ") {
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: bytes[..<cut])
                joined.append(contentsOf: bytes[(cut + 1)...])
                if let left = ids.id(bytes[..<cut]), let right = ids.id(bytes[(cut + 1)...]), let merged = ids.id(joined) {
                    found = (left, right, merged)
                    break
                }
            }
            guard let (left, right, merged) = found else {
                throw TokenizerError.mergeWithUnknownToken(rank: rank, merge: merge)
            }
            let key = BytePairMerger.key(left, right)
            if pairs[key] == nil { pairs[key] = PairMerge(merged: merged, priority: -Float(rank)) }
        }
        return pairs
    }

    /// The byte of a `<0xXX>` token.
    private static func fallbackByte(_ text: ArraySlice<UInt8>) -> UInt8? {
        let text = Array(text)
        guard text.count == 6, text[0] == UInt8(ascii: "<"), text[1] == UInt8(ascii: "0"),
            text[2] == UInt8(ascii: "x"), text[5] == UInt8(ascii: ">")
        else { return nil }
        return UInt8(String(decoding: text[3..<5], as: UTF8.self), radix: 16)
    }

    private static func metaspaceBytes(_ slice: ArraySlice<UInt8>) -> [UInt8] {
        let text = Array(slice)
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if index + 2 < text.count, text[index] == 0xE2, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                result.append(UInt8(ascii: " "))
                index += 3
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    private static func appendByteLevelBytes(_ text: String, to pieces: inout TokenStrings) {
        var result: [UInt8] = []
        for scalar in text.unicodeScalars {
            if let byte = ByteLevelAlphabet.byte(for: scalar) {
                result.append(byte)
            } else {
                UTF8.encode(scalar) { result.append($0) }
            }
        }
        pieces.append(result)
    }
}
