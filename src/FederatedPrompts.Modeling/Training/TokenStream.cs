using System.Runtime.InteropServices;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Tokenization;
using Microsoft.Win32.SafeHandles;

namespace FederatedPrompts.Modeling.Training;

/// <summary>
/// A token stream in a file of int32 ids (the platform's byte order: the file never leaves the machine that wrote it), read
/// window by window, so training on a corpus of any size holds only the windows of one batch. Reads go through the file
/// handle, not a memory map, so the pages read do not count against the process's resident memory.
/// </summary>
public sealed class TokenStream : IDisposable
{
    readonly SafeFileHandle _file;

    readonly long[] _separators;

    TokenStream(SafeFileHandle file, long length, long[] separators) => (_file, Length, _separators) = (file, length, separators);

    /// <summary>Number of tokens.</summary>
    public long Length { get; }

    /// <summary>Positions of the document separator (end-of-text) in the stream, ascending; each is followed by a document's start.</summary>
    public IReadOnlyList<long> Separators => _separators;

    /// <summary>How many separators lie at or before <paramref name="position"/>.</summary>
    public int SeparatorsUpTo(long position)
    {
        int index = Array.BinarySearch(_separators, position);
        return index >= 0 ? index + 1 : ~index;
    }

    /// <summary>
    /// Writes <paramref name="ids"/> to a new file at <paramref name="path"/> as they come (nothing is collected but the
    /// positions of <paramref name="separator"/>), through the handle that then reads them: the file is never opened twice.
    /// </summary>
    public static TokenStream Write(string path, IEnumerable<int> ids, int? separator = null)
    {
        var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
        try
        {
            var buffer = new int[1 << 16];
            int filled = 0;
            long written = 0;
            void Flush()
            {
                RandomAccess.Write(file, MemoryMarshal.AsBytes(buffer.AsSpan(0, filled)), written * sizeof(int));
                written += filled;
                filled = 0;
            }
            var separators = new List<long>();
            foreach (var id in ids)
            {
                if (id == separator) separators.Add(written + filled);
                buffer[filled++] = id;
                if (filled == buffer.Length) Flush();
            }
            Flush();
            return new TokenStream(file, written, separators.ToArray());
        }
        catch { file.Dispose(); throw; }
    }

    /// <summary>Fills <paramref name="destination"/> with the tokens from <paramref name="offset"/> on.</summary>
    public void Read(long offset, Span<int> destination)
    {
        if (offset < 0 || offset + destination.Length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"tokens {offset}..{offset + destination.Length} lie outside the stream of {Length}");
        var bytes = MemoryMarshal.AsBytes(destination);
        long position = offset * sizeof(int);
        while (bytes.Length > 0)
        {
            int read = RandomAccess.Read(_file, bytes, position);
            if (read == 0) throw new EndOfStreamException($"token file ended at byte {position}");
            bytes = bytes[read..];
            position += read;
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// A corpus tokenized once into two token files (training and held-out documents) in a scratch folder that
/// <see cref="Dispose"/> deletes: each document's ids followed by the end-of-text token when the tokenizer has one.
/// </summary>
public sealed class TokenizedCorpus : IDisposable
{
    /// <summary>The scratch folder's name inside a training run's output folder.</summary>
    public const string Folder = "tokens.tmp";

    readonly string _folder;

    TokenizedCorpus(string folder, TokenStream train, TokenStream heldOut) => (_folder, Train, HeldOut) = (folder, train, heldOut);

    public TokenStream Train { get; }
    public TokenStream HeldOut { get; }

    public static TokenizedCorpus Write(DocumentSplit split, ITextTokenizer tokenizer, string folder)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);   // left by a run that crashed
        Directory.CreateDirectory(folder);
        var train = TokenStream.Write(Path.Combine(folder, "train.int32"), Ids(split.Train(), tokenizer), tokenizer.EosId);
        try { return new TokenizedCorpus(folder, train, TokenStream.Write(Path.Combine(folder, "held-out.int32"), Ids(split.HeldOut(), tokenizer), tokenizer.EosId)); }
        catch { train.Dispose(); throw; }
    }

    /// <summary>The documents' ids, each document followed by the end-of-text token when the tokenizer has one.</summary>
    internal static IEnumerable<int> Ids(IEnumerable<string> documents, ITextTokenizer tokenizer)
    {
        foreach (var document in documents)
        {
            foreach (var id in tokenizer.Encode(document)) yield return id;
            if (tokenizer.EosId is int eos) yield return eos;
        }
    }

    public void Dispose()
    {
        Train.Dispose();
        HeldOut.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
