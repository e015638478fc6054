using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// The Hugging Face safetensors format: an 8-byte little-endian header length, a JSON header
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}</c>, then the raw
/// little-endian tensor bytes (offsets are relative to the end of the header). Tensors are always returned as
/// float32; F32, F16, BF16 and F64 storage are read, F32, F16 and BF16 written. Sharded checkpoints are a set of
/// such files named by <c>model.safetensors.index.json</c>'s <c>weight_map</c>.
/// </summary>
public static class SafeTensors
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";
    public const string MetadataKey = "__metadata__";
    // The Rust reference implementation refuses headers above 100 MB; a larger value means a corrupt file.
    const long MaxHeaderBytes = 100_000_000;

    /// <summary>One tensor as the header describes it; offsets are relative to the start of the data section.</summary>
    public sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End)
    {
        public long ElementCount => Shape.Aggregate(1L, (product, dim) => product * dim);
    }

    public sealed record Header(string File, IReadOnlyList<Entry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataStart);

    /// <summary>The storage dtypes read, with their bytes per element.</summary>
    public static readonly IReadOnlyDictionary<string, int> ReadableDTypes = new Dictionary<string, int>
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2,
    };

    public static readonly IReadOnlyList<string> WritableDTypes = ["F32", "F16", "BF16"];

    /// <summary>Bytes per element of a storage dtype; throws for dtypes this reader does not support.</summary>
    public static int ElementSize(string dtype) => ReadableDTypes.TryGetValue(dtype, out int size) ? size
        : throw new ArgumentException($"unsupported safetensors dtype \"{dtype}\" (supported: {string.Join(", ", ReadableDTypes.Keys)})");

    public static Header ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: file not found");
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path);
    }

    static Header ReadHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (fileLength < 8 || stream.Read(lengthBytes) != 8)
            throw new ModelFormatException($"{path}: truncated file ({fileLength} bytes; the 8-byte header length is missing)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw new ModelFormatException($"{path}: header length {headerLength} runs beyond the end of the file ({fileLength} bytes)");
        if (headerLength > MaxHeaderBytes)
            throw new ModelFormatException($"{path}: header length {headerLength} exceeds {MaxHeaderBytes} bytes");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject json;
        try
        {
            // Duplicate names would make the header ambiguous; reject them while parsing.
            json = JsonNode.Parse(headerBytes, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                   ?? throw new ModelFormatException($"{path}: header is not a JSON object");
        }
        catch (JsonException e) { throw new ModelFormatException($"{path}: header is not valid JSON ({e.Message})"); }

        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;
        var metadata = new Dictionary<string, string>();
        var entries = new List<Entry>();
        foreach (var (name, node) in json)
        {
            if (name == MetadataKey)
            {
                metadata = ParseMetadata(node, path);
                continue;
            }
            var entry = ParseEntry(name, node, path);
            if (entry.Begin < 0 || entry.End < entry.Begin || entry.End > dataLength)
                throw new ModelFormatException(
                    $"{path}: tensor \"{name}\" has data_offsets [{entry.Begin}, {entry.End}] outside the data section of {dataLength} bytes");
            long expectedBytes = entry.ElementCount * ElementSize(entry.DType);
            if (entry.End - entry.Begin != expectedBytes)
                throw new ModelFormatException(
                    $"{path}: tensor \"{name}\" has {entry.End - entry.Begin} bytes but shape [{string.Join(", ", entry.Shape)}] of {entry.DType} needs {expectedBytes}");
            entries.Add(entry);
        }

        var byOffset = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        for (int i = 1; i < byOffset.Count; i++)
            if (byOffset[i].Begin < byOffset[i - 1].End)
                throw new ModelFormatException($"{path}: tensors \"{byOffset[i - 1].Name}\" and \"{byOffset[i].Name}\" have overlapping data");
        return new Header(path, entries, metadata, dataStart);
    }

    static Dictionary<string, string> ParseMetadata(JsonNode? node, string path)
    {
        if (node is not JsonObject obj) throw new ModelFormatException($"{path}: \"{MetadataKey}\" is not a JSON object");
        var metadata = new Dictionary<string, string>();
        foreach (var (key, value) in obj)
            metadata[key] = value is JsonValue v && v.TryGetValue<string>(out var s)
                ? s
                : throw new ModelFormatException($"{path}: \"{MetadataKey}\" value of \"{key}\" is not a string");
        return metadata;
    }

    static Entry ParseEntry(string name, JsonNode? node, string path)
    {
        ModelFormatException Bad(string what) => new($"{path}: tensor \"{name}\": {what}");
        if (node is not JsonObject obj) throw Bad("header entry is not a JSON object");
        string dtype = obj["dtype"] is JsonValue d && d.TryGetValue<string>(out var s) ? s : throw Bad("missing \"dtype\"");
        if (!ReadableDTypes.ContainsKey(dtype)) throw Bad($"unsupported dtype \"{dtype}\" (supported: {string.Join(", ", ReadableDTypes.Keys)})");
        long[] shape = ReadLongs(obj["shape"]) ?? throw Bad("missing or invalid \"shape\"");
        if (shape.Any(dim => dim < 0)) throw Bad("negative dimension in \"shape\"");
        long[] offsets = ReadLongs(obj["data_offsets"]) is { Length: 2 } pair ? pair : throw Bad("\"data_offsets\" must be [begin, end]");
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    static long[]? ReadLongs(JsonNode? node)
    {
        if (node is not JsonArray array) return null;
        var values = new long[array.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue<long>(out values[i])) return null;
        }
        return values;
    }

    /// <summary>Reads every tensor of one file as float32 CPU tensors.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: file not found");
        using var stream = File.OpenRead(path);
        var header = ReadHeader(stream, path);
        return header.Entries.ToDictionary(e => e.Name, e => ReadTensor(stream, header, e));
    }

    /// <summary>
    /// Bytes read and decoded at a time when the stored dtype is not float32 (float32 is read straight into the tensor).
    /// A tensor never passes through a whole managed copy: copies of the whole tensor (its bytes, then its floats) put two
    /// model sizes of garbage on the large-object heap per load, which the GC may leave there for long (a coordinator idle
    /// with a GPT-2-small-shaped pair loaded held 3,323 MiB resident with the copies, 1,695 MiB without).
    /// </summary>
    const int DecodeBlockBytes = 1 << 20;

    static Tensor ReadTensor(FileStream stream, Header header, Entry entry)
    {
        var tensor = torch.empty(entry.Shape, ScalarType.Float32);
        try
        {
            ReadInto(stream, header, entry, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads one tensor's data into <paramref name="destination"/>, a contiguous float32 CPU tensor of its shape (a
    /// model's parameter when loading a checkpoint, so the weights are held once): float32 goes from the file straight
    /// into the tensor's memory, other dtypes are decoded through two pooled blocks of <see cref="DecodeBlockBytes"/>.
    /// </summary>
    public static void ReadInto(FileStream stream, Header header, Entry entry, Tensor destination)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors decoding assumes a little-endian machine");
        if (destination.dtype != ScalarType.Float32 || destination.device_type != DeviceType.CPU || !destination.is_contiguous()
            || !destination.shape.SequenceEqual(entry.Shape))
            throw new ArgumentException($"tensor \"{entry.Name}\" is read into a contiguous float32 CPU tensor of shape [{string.Join(", ", entry.Shape)}]", nameof(destination));
        stream.Seek(header.DataStart + entry.Begin, SeekOrigin.Begin);
        if (entry.DType == "F32" && entry.End - entry.Begin <= int.MaxValue)
        {
            stream.ReadExactly(destination.bytes);
            return;
        }
        int elementSize = ElementSize(entry.DType), blockElements = DecodeBlockBytes / elementSize;
        var bytes = ArrayPool<byte>.Shared.Rent(blockElements * elementSize);
        var floats = ArrayPool<float>.Shared.Rent(blockElements);
        try
        {
            using var storage = destination.data<float>();
            for (long done = 0; done < entry.ElementCount; done += blockElements)
            {
                int count = (int)Math.Min(blockElements, entry.ElementCount - done);
                stream.ReadExactly(bytes, 0, count * elementSize);
                Decode(bytes.AsSpan(0, count * elementSize), entry.DType, floats.AsSpan(0, count));
                storage.CopyFrom(floats.AsSpan(0, count), 0, done);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<float>.Shared.Return(floats);
        }
    }

    /// <summary>Little-endian <paramref name="dtype"/> values in <paramref name="bytes"/> as float32 into <paramref name="values"/> (as many as there are).</summary>
    static void Decode(ReadOnlySpan<byte> bytes, string dtype, Span<float> values)
    {
        switch (dtype)
        {
            case "F32":
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
                break;
            case "F64":
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < doubles.Length; i++) values[i] = (float)doubles[i];
                break;
            case "F16":
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < halves.Length; i++) values[i] = (float)halves[i];
                break;
            case "BF16":
                // bfloat16 is the upper half of a float32.
                var upper = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < upper.Length; i++) values[i] = BitConverter.Int32BitsToSingle(upper[i] << 16);
                break;
            default:
                throw new UnreachableException($"dtype {dtype} passed header validation");
        }
    }

    static byte[] EncodeFromFloat(float[] values, string dtype)
    {
        switch (dtype)
        {
            case "F32":
                return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            case "F16":
                return MemoryMarshal.AsBytes(Array.ConvertAll(values, f => (Half)f).AsSpan()).ToArray();
            case "BF16":
                return MemoryMarshal.AsBytes(Array.ConvertAll(values, FloatToBFloat16).AsSpan()).ToArray();
            default:
                throw new UnreachableException($"dtype {dtype} passed the writer's check");
        }
    }

    /// <summary>Round to nearest even, as PyTorch converts float32 to bfloat16; NaN stays a (quiet) NaN.</summary>
    static ushort FloatToBFloat16(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    static void RequireWritable(string dtype)
    {
        if (!WritableDTypes.Contains(dtype))
            throw new ArgumentException($"cannot write safetensors dtype \"{dtype}\" (supported: {string.Join(", ", WritableDTypes)})", nameof(dtype));
    }

    /// <summary>
    /// Writes tensors (converted from float32 to <paramref name="dtype"/>) in sorted-name order, with the header
    /// padded with spaces to a multiple of 8 bytes as Hugging Face's writer does.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, string dtype = "F32",
                             IReadOnlyDictionary<string, string>? metadata = null)
    {
        RequireWritable(dtype);
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var payloads = names.Select(name =>
        {
            using var values = tensors[name].detach().to(ScalarType.Float32, CPU).contiguous();
            return EncodeFromFloat(values.data<float>().ToArray(), dtype);
        }).ToList();

        var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            for (int i = 0; i < names.Count; i++)
            {
                json.WriteStartObject(names[i]);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (long dim in tensors[names[i]].shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += payloads[i].Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        var header = headerStream.ToArray();
        int padding = (8 - header.Length % 8) % 8;

        using var file = File.Create(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)(header.Length + padding));
        file.Write(lengthBytes);
        file.Write(header);
        file.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        foreach (var payload in payloads) file.Write(payload);
    }

    /// <summary>
    /// The headers of a checkpoint folder: <c>model.safetensors</c>, or the shards named by
    /// <c>model.safetensors.index.json</c>. Maps each tensor name to the header of the file holding it.
    /// </summary>
    public static Dictionary<string, (Header File, Entry Entry)> ReadCheckpointHeaders(string dir)
    {
        string single = Path.Combine(dir, SingleFileName), index = Path.Combine(dir, IndexFileName);
        if (File.Exists(single))
        {
            var header = ReadHeader(single);
            return header.Entries.ToDictionary(e => e.Name, e => (header, e));
        }
        if (!File.Exists(index))
            throw new ModelFormatException($"{Path.Combine(dir, SingleFileName)}: file not found (nor {IndexFileName})");

        var weightMap = ReadWeightMap(index);
        var headers = weightMap.Values.Distinct().ToDictionary(shard => shard, shard => ReadHeader(Path.Combine(dir, shard)));
        var result = new Dictionary<string, (Header, Entry)>();
        foreach (var (name, shard) in weightMap)
        {
            var header = headers[shard];
            var entry = header.Entries.FirstOrDefault(e => e.Name == name)
                        ?? throw new ModelFormatException($"{header.File}: tensor \"{name}\" listed in {index} is not in this shard");
            result[name] = (header, entry);
        }
        foreach (var header in headers.Values)
            foreach (var entry in header.Entries.Where(e => !weightMap.ContainsKey(e.Name)))
                throw new ModelFormatException($"{header.File}: tensor \"{entry.Name}\" is not listed in {index}");
        return result;
    }

    static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonObject? weightMap;
        try { weightMap = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject; }
        catch (JsonException e) { throw new ModelFormatException($"{indexPath}: invalid JSON ({e.Message})"); }
        if (weightMap is null) throw new ModelFormatException($"{indexPath}: no \"weight_map\" object");
        var map = new Dictionary<string, string>();
        foreach (var (name, node) in weightMap)
        {
            string shard = node is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : throw new ModelFormatException($"{indexPath}: weight_map entry of tensor \"{name}\" is not a file name");
            // A shard must sit in the folder itself: no paths out of it.
            if (Path.GetFileName(shard) != shard) throw new ModelFormatException($"{indexPath}: tensor \"{name}\" maps to \"{shard}\", not a file name");
            map[name] = shard;
        }
        return map;
    }

    /// <summary>
    /// All tensors of a checkpoint folder (single file or sharded) as float32 CPU tensors. Loading a model does not come
    /// here: <see cref="HfCheckpoint.Load"/> reads each tensor into its parameter (<see cref="ReadInto"/>).
    /// </summary>
    public static Dictionary<string, Tensor> ReadCheckpoint(string dir)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var group in ReadCheckpointHeaders(dir).Values.GroupBy(t => t.File))
        {
            using var stream = File.OpenRead(group.Key.File);
            foreach (var (header, entry) in group) result[entry.Name] = ReadTensor(stream, header, entry);
        }
        return result;
    }

    /// <summary>
    /// Writes a checkpoint folder: one <c>model.safetensors</c>, or, when <paramref name="maxShardBytes"/> is given
    /// and the tensors exceed it, shards <c>model-0000k-of-0000n.safetensors</c> filled in sorted-name order plus
    /// <c>model.safetensors.index.json</c> (a tensor larger than the limit gets a shard of its own).
    /// Files of a previous checkpoint in the folder are removed first so the two layouts never mix.
    /// </summary>
    public static void WriteCheckpoint(string dir, IReadOnlyDictionary<string, Tensor> tensors, string dtype = "F32",
                                       long? maxShardBytes = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        RequireWritable(dtype);
        Directory.CreateDirectory(dir);
        foreach (var stale in Directory.EnumerateFiles(dir, "model*.safetensors").Append(Path.Combine(dir, IndexFileName)))
            File.Delete(stale);

        int elementSize = ElementSize(dtype);
        long Bytes(string name) => tensors[name].numel() * elementSize;
        var shards = new List<List<string>> { new() };
        long shardBytes = 0;
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            if (maxShardBytes is long max && shards[^1].Count > 0 && shardBytes + Bytes(name) > max)
            {
                shards.Add(new());
                shardBytes = 0;
            }
            shards[^1].Add(name);
            shardBytes += Bytes(name);
        }

        if (shards.Count == 1)
        {
            Write(Path.Combine(dir, SingleFileName), tensors, dtype, metadata);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string shardName = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Write(Path.Combine(dir, shardName), shards[i].ToDictionary(n => n, n => tensors[n]), dtype, metadata);
            foreach (var name in shards[i]) weightMap[name] = shardName;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = tensors.Keys.Sum(Bytes) },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(dir, IndexFileName), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
