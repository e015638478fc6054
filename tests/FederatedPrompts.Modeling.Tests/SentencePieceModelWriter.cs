using System.Text;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>
/// Writes a SentencePiece <c>ModelProto</c> (sentencepiece_model.proto) by hand: pieces (field 1: piece=1,
/// score=2, type=3), trainer_spec (field 2: model_type=3, byte_fallback=35, unk/bos/eos/pad ids=40–43) and
/// normalizer_spec (field 3: add_dummy_prefix=3, remove_extra_whitespaces=4, escape_whitespaces=5).
/// </summary>
static class SentencePieceModelWriter
{
    public enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Byte = 6 }

    public static byte[] BpeModel(IEnumerable<(string Piece, float Score, PieceType Type)> pieces, bool byteFallback = true, bool addDummyPrefix = true)
    {
        var model = new List<byte>();
        foreach (var (piece, score, type) in pieces)
        {
            var message = new List<byte>();
            WriteString(message, 1, piece);
            WriteFloat(message, 2, score);
            WriteVarint(message, 3, (ulong)type);
            WriteMessage(model, 1, message);
        }

        var trainer = new List<byte>();
        WriteVarint(trainer, 3, 2); // model_type BPE
        WriteVarint(trainer, 35, byteFallback ? 1UL : 0);
        WriteVarint(trainer, 40, 0); // unk_id
        WriteVarint(trainer, 41, 1); // bos_id
        WriteVarint(trainer, 42, 2); // eos_id
        WriteVarint(trainer, 43, unchecked((ulong)-1L)); // pad_id: none
        WriteMessage(model, 2, trainer);

        var normalizer = new List<byte>();
        WriteString(normalizer, 1, "identity");
        WriteVarint(normalizer, 3, addDummyPrefix ? 1UL : 0);
        WriteVarint(normalizer, 4, 0); // remove_extra_whitespaces off, as in Llama's model
        WriteVarint(normalizer, 5, 1);
        WriteMessage(model, 3, normalizer);
        return [.. model];
    }

    /// <summary>&lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, then the 256 byte pieces &lt;0x00&gt;…&lt;0xFF&gt; (ids 3–258), as in Llama's vocabulary.</summary>
    public static IEnumerable<(string, float, PieceType)> LlamaPrefixPieces() =>
        new[] { ("<unk>", 0f, PieceType.Unknown), ("<s>", 0f, PieceType.Control), ("</s>", 0f, PieceType.Control) }
            .Concat(Enumerable.Range(0, 256).Select(b => ($"<0x{b:X2}>", 0f, PieceType.Byte)));

    static void WriteTag(List<byte> to, int field, int wireType) => WriteRawVarint(to, (ulong)(field << 3 | wireType));

    static void WriteRawVarint(List<byte> to, ulong value)
    {
        for (; value >= 0x80; value >>= 7) to.Add((byte)(value | 0x80));
        to.Add((byte)value);
    }

    static void WriteVarint(List<byte> to, int field, ulong value) { WriteTag(to, field, 0); WriteRawVarint(to, value); }

    static void WriteFloat(List<byte> to, int field, float value) { WriteTag(to, field, 5); to.AddRange(BitConverter.GetBytes(value)); }

    static void WriteBytes(List<byte> to, int field, IReadOnlyCollection<byte> bytes)
    {
        WriteTag(to, field, 2);
        WriteRawVarint(to, (ulong)bytes.Count);
        to.AddRange(bytes);
    }

    static void WriteString(List<byte> to, int field, string value) => WriteBytes(to, field, Encoding.UTF8.GetBytes(value));

    static void WriteMessage(List<byte> to, int field, List<byte> message) => WriteBytes(to, field, message);
}
