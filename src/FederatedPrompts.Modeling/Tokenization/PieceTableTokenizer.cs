using System.Text;
using System.Text.Json;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// Decode-only tokenizer from a <c>pieces.json</c> id → piece table (llama2.c exports such as stories260K): without
/// merges or scores the model's encoding cannot be reproduced, so <see cref="Encode"/> refuses; callers pass ids,
/// looking pieces up with <see cref="IdOfPiece"/>.
/// </summary>
public sealed class PieceTableTokenizer : ITextTokenizer
{
    public const string FileName = "pieces.json";

    readonly string _path;
    readonly string[] _pieces;
    readonly Dictionary<string, int> _idOfPiece = [];

    PieceTableTokenizer(string path, string[] pieces)
    {
        _path = path;
        _pieces = pieces;
        for (var id = pieces.Length - 1; id >= 0; id--) _idOfPiece[pieces[id]] = id; // first id wins for a repeated piece
        // llama2.c writes its control pieces as "\n<s>\n" and "\n</s>\n".
        BosId = Array.FindIndex(pieces, p => p.Trim() == "<s>") is var bos and >= 0 ? bos : null;
        EosId = Array.FindIndex(pieces, p => p.Trim() == "</s>") is var eos and >= 0 ? eos : null;
        Identity = VocabularyIdentity.Of("pieces", JsonSerializer.SerializeToUtf8Bytes(pieces));
    }

    public string Identity { get; }
    public int VocabSize => _pieces.Length;
    public int? BosId { get; }
    public int? EosId { get; }

    public static PieceTableTokenizer Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("pieces", out var pieces) || pieces.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: expected an object with a 'pieces' array (id → piece)");
            return new PieceTableTokenizer(path, [.. pieces.EnumerateArray().Select(p => p.GetString()
                ?? throw new InvalidDataException($"{path}: 'pieces' holds a null"))]);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: expected an object with a 'pieces' array of strings ({e.Message})", e);
        }
    }

    /// <summary>Id of a piece written with a leading space or SentencePiece's '▁'; null when the table has none.</summary>
    public int? IdOfPiece(string piece) => _idOfPiece.TryGetValue(piece.Replace('▁', ' '), out var id) ? id : null;

    public IReadOnlyList<int> Encode(string text) => throw new NotSupportedException(
        $"{Path.GetDirectoryName(_path)} has no merge table (only {FileName}, id → piece), so text cannot be tokenized as the model was; pass token ids instead (--ids)");

    /// <summary>Pieces joined, '▁' as space, &lt;0xNN&gt; pieces as raw bytes; BOS/EOS dropped and the leading space of the first piece removed, as SentencePiece decodes.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (id == BosId || id == EosId) continue;
            if ((uint)id >= (uint)_pieces.Length) throw new ArgumentOutOfRangeException(nameof(ids), id, $"not an id of {_path}");
            var piece = _pieces[id];
            if (piece is ['<', '0', 'x', _, _, '>'] && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b)) bytes.Add(b);
            else bytes.AddRange(Encoding.UTF8.GetBytes(piece.Replace('▁', ' ')));
        }
        var text = Encoding.UTF8.GetString([.. bytes]);
        return text.StartsWith(' ') ? text[1..] : text;
    }
}
