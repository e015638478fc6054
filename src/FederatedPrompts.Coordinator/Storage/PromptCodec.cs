using System.Security.Cryptography;
using System.Text;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Storage;

/// <summary>
/// Prompts as the store keeps them, a format owned by the coordinator (not the wire's): a kind byte, then for a soft
/// prompt its length, hidden size, model identity and float32 values; for a discrete prompt its tokenizer identity and
/// int32 ids and its decoded text where it has one (a global prompt; clients' texts are dropped before updates are stored).
/// Little-endian, strings as UTF-8 with a 7-bit-encoded length (BinaryWriter). Equal prompts have equal bytes, so
/// <see cref="Version"/> is a content hash.
/// </summary>
public static class PromptCodec
{
    const byte Soft = (byte)'S', Discrete = (byte)'D';

    public static byte[] Encode(Prompt prompt)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            switch (prompt)
            {
                case SoftPrompt soft:
                    writer.Write(Soft);
                    writer.Write(soft.Length);
                    writer.Write(soft.HiddenSize);
                    writer.Write(soft.ModelIdentity);
                    foreach (float value in soft.Values.Span) writer.Write(value);
                    break;
                case DiscretePrompt discrete:
                    writer.Write(Discrete);
                    writer.Write(discrete.TokenizerIdentity);
                    writer.Write(discrete.Length);
                    foreach (int id in discrete.TokenIds) writer.Write(id);
                    writer.Write(discrete.Text is not null);
                    if (discrete.Text is not null) writer.Write(discrete.Text);
                    break;
                default:
                    throw new ArgumentException($"no encoding for {prompt.GetType().Name}");
            }
        }
        return buffer.ToArray();
    }

    /// <summary>The prompt <paramref name="bytes"/> encode; InvalidDataException for bytes this codec did not write.</summary>
    public static Prompt Decode(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            Prompt prompt = reader.ReadByte() switch
            {
                Soft => ReadSoft(reader),
                Discrete => ReadDiscrete(reader),
                var kind => throw new InvalidDataException($"unknown prompt kind byte {kind}"),
            };
            if (reader.BaseStream.Position != bytes.Length) throw new InvalidDataException($"{bytes.Length - reader.BaseStream.Position} bytes after the prompt");
            return prompt;
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"a stored prompt ({bytes.Length} bytes) cannot be read: {e.Message}", e);
        }
    }

    static SoftPrompt ReadSoft(BinaryReader reader)
    {
        int length = reader.ReadInt32(), hidden = reader.ReadInt32();
        string identity = reader.ReadString();
        if (length <= 0 || hidden <= 0 || (long)length * hidden * sizeof(float) > reader.BaseStream.Length)
            throw new InvalidDataException($"soft prompt of {length} × {hidden} does not fit in the bytes stored");
        var values = new float[length * hidden];
        for (int i = 0; i < values.Length; i++) values[i] = reader.ReadSingle();
        return new SoftPrompt(values, length, hidden, identity);
    }

    static DiscretePrompt ReadDiscrete(BinaryReader reader)
    {
        string tokenizer = reader.ReadString();
        int count = reader.ReadInt32();
        if (count < 0 || (long)count * sizeof(int) > reader.BaseStream.Length)
            throw new InvalidDataException($"discrete prompt of {count} tokens does not fit in the bytes stored");
        var ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = reader.ReadInt32();
        return new DiscretePrompt(ids, tokenizer, reader.ReadBoolean() ? reader.ReadString() : null);
    }

    /// <summary>A prompt's version: the lowercase hex SHA-256 of its encoding. Equal prompts have equal versions.</summary>
    public static string Version(Prompt prompt) => Convert.ToHexStringLower(SHA256.HashData(Encode(prompt)));
}
