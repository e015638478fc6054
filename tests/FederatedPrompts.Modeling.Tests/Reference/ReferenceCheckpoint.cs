using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace FederatedPrompts.Modeling.Tests.Reference;

/// <summary>
/// A deliberately independent, minimal reader of a Hugging Face model folder (config.json + safetensors, single or
/// sharded) into plain float arrays, written from the format description and sharing no code with the library, so
/// the reference forward pass does not inherit the reader's bugs.
/// </summary>
public sealed class ReferenceCheckpoint
{
    public required JsonObject Config { get; init; }
    public required Dictionary<string, float[]> Tensors { get; init; }

    public static ReferenceCheckpoint Load(string dir)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        var files = File.Exists(Path.Combine(dir, "model.safetensors"))
            ? ["model.safetensors"]
            : JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "model.safetensors.index.json")))!["weight_map"]!.AsObject()
                .Select(kv => kv.Value!.GetValue<string>()).Distinct().ToList();
        var tensors = new Dictionary<string, float[]>();
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, file));
            long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            var header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!.AsObject();
            long dataStart = 8 + headerLength;
            foreach (var (name, entry) in header)
            {
                if (name == "__metadata__") continue;
                string dtype = entry!["dtype"]!.GetValue<string>();
                long begin = entry["data_offsets"]![0]!.GetValue<long>(), end = entry["data_offsets"]![1]!.GetValue<long>();
                var raw = bytes.AsSpan((int)(dataStart + begin), (int)(end - begin));
                tensors[name] = Decode(raw, dtype);
            }
        }
        return new ReferenceCheckpoint { Config = config, Tensors = tensors };
    }

    static float[] Decode(ReadOnlySpan<byte> raw, string dtype)
    {
        int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, "F64" => 8, _ => throw new NotSupportedException(dtype) };
        var values = new float[raw.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            var element = raw.Slice(i * size, size);
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(element),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(element),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(element),
                _ => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(element) << 16),
            };
        }
        return values;
    }
}
