using System.IO.Compression;
using System.Reflection;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// The cl100k_base encoding served by the Microsoft.ML.Tokenizers.Data.Cl100kBase package: its encoder plus the
/// exact bytes of every token, which the package's tokenizer does not expose (its Decode returns text, and a token
/// may hold part of a UTF-8 character).
/// </summary>
sealed class Cl100kBase
{
    public const string EncodingName = "cl100k_base";

    // The data package's only type is internal; its resource holds the deflated token table.
    const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Cl100kBase";
    const string DataResource = "cl100k_base.tiktoken.deflate";

    static readonly Lazy<Cl100kBase> Shared = new(() => new Cl100kBase());

    public static Cl100kBase Instance => Shared.Value;

    readonly Dictionary<int, byte[]> _tokenBytes;
    readonly Dictionary<int, byte[]> _specialTokenText;

    Cl100kBase()
    {
        Tokenizer = TiktokenTokenizer.CreateForEncoding(EncodingName);
        _tokenBytes = ReadTokenBytes();
        _specialTokenText = (Tokenizer.SpecialTokens ?? new Dictionary<string, int>()).ToDictionary(e => e.Value, e => Encoding.UTF8.GetBytes(e.Key));
        SingleByteTokens = new int[256];
        foreach (var (id, bytes) in _tokenBytes)
            if (bytes.Length == 1) SingleByteTokens[bytes[0]] = id;
    }

    public TiktokenTokenizer Tokenizer { get; }

    /// <summary>Whether <paramref name="id"/> is a token of the byte-pair table (not special; cl100k skips id 100256).</summary>
    public bool IsOrdinary(int id) => _tokenBytes.ContainsKey(id);

    /// <summary>The token id of each single byte value.</summary>
    public int[] SingleByteTokens { get; }

    /// <summary>
    /// A token's bytes. The package's tokenizer turns special-token text in the input into special ids; their bytes
    /// are that literal text, so re-emitting them as bytes keeps the text as written.
    /// </summary>
    public byte[] BytesOf(int id) => _tokenBytes.TryGetValue(id, out var bytes) ? bytes : _specialTokenText[id];

    static Dictionary<int, byte[]> ReadTokenBytes()
    {
        using var deflated = Assembly.Load(DataAssembly).GetManifestResourceStream(DataResource)
            ?? throw new InvalidOperationException($"{DataAssembly} has no resource {DataResource}; was the package updated?");
        using var reader = new StreamReader(new DeflateStream(deflated, CompressionMode.Decompress));
        var tokens = new Dictionary<int, byte[]>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:")) continue;
            // Standard tiktoken lines are "base64 rank"; the package stores bare base64 with the rank implied by the line.
            var space = line.IndexOf(' ');
            var rank = space < 0 ? tokens.Count : int.Parse(line.AsSpan(space + 1));
            tokens.Add(rank, Convert.FromBase64String(space < 0 ? line : line[..space]));
        }
        return tokens;
    }
}
