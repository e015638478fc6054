using System.Buffers.Binary;
using System.Text;
using FederatedPrompts.Modeling.Models;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class SafeTensorsTests
{
    [Fact]
    public void Writes_the_hand_computed_bytes_of_a_tiny_file()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("tiny.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["a"] = tensor(new float[] { 1, 2 }) });

        // {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes, padded with 2 spaces to 56.
        byte[] expected =
        [
            56, 0, 0, 0, 0, 0, 0, 0,
            .. Encoding.ASCII.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  "),
            0x00, 0x00, 0x80, 0x3F, // 1.0f
            0x00, 0x00, 0x00, 0x40, // 2.0f
        ];
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData("F32")]
    [InlineData("F16")]
    [InlineData("BF16")]
    public void Round_trips_values_exactly_representable_in_the_dtype(string dtype)
    {
        using var folder = new TempFolder();
        string path = folder.Combine("round.safetensors");
        var values = new float[] { 0, 1, -2.25f, 0.0078125f, 96, -0.5f };
        var tensors = new Dictionary<string, Tensor>
        {
            ["z.matrix"] = tensor(values).reshape(2, 3),
            ["a.vector"] = tensor(new float[] { 3.5f }),
        };
        SafeTensors.Write(path, tensors, dtype, new Dictionary<string, string> { ["format"] = "pt" });

        var header = SafeTensors.ReadHeader(path);
        Assert.Equal(["a.vector", "z.matrix"], header.Entries.OrderBy(e => e.Begin).Select(e => e.Name)); // sorted-name order
        Assert.All(header.Entries, e => Assert.Equal(dtype, e.DType));
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(0, header.DataStart % 8);

        var read = SafeTensors.Read(path);
        Assert.Equal(ScalarType.Float32, read["z.matrix"].dtype);
        Assert.Equal(new long[] { 2, 3 }, read["z.matrix"].shape);
        Assert.Equal(values, read["z.matrix"].data<float>().ToArray());
        Assert.Equal(3.5f, read["a.vector"].item<float>());
    }

    [Theory]
    [InlineData("F32")]
    [InlineData("F16")]
    [InlineData("BF16")]
    public void A_tensor_of_several_decode_blocks_reads_back_whole_without_a_managed_copy_of_it(string dtype)
    {
        using var folder = new TempFolder();
        string path = folder.Combine("large.safetensors");
        // 700,003 values: several 1 MiB blocks in every dtype and a partial last one; each exact in F16 and BF16.
        var values = Enumerable.Range(0, 700_003).Select(i => (i % 251 - 125) * 0.5f).ToArray();
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["w"] = tensor(values[..700_000]).reshape(700, 1000), ["tail"] = tensor(values[700_000..]) }, dtype);
        SafeTensors.Read(path);   // the decode blocks come from a pool: the first read may rent them

        long before = GC.GetAllocatedBytesForCurrentThread();
        var read = SafeTensors.Read(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(values[..700_000], read["w"].data<float>().ToArray());
        Assert.Equal(new long[] { 700, 1000 }, read["w"].shape);
        Assert.Equal(values[700_000..], read["tail"].data<float>().ToArray());
        // The tensor goes from the file into its own storage through the pooled blocks, not through whole copies of it.
        long fileBytes = new FileInfo(path).Length;
        Assert.True(allocated < fileBytes / 10, $"reading {fileBytes:N0} bytes of {dtype} allocated {allocated:N0} managed bytes");
    }

    [Fact]
    public void Reading_into_a_tensor_of_another_shape_or_dtype_is_refused()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("small.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["m"] = zeros(2, 3) });
        var header = SafeTensors.ReadHeader(path);
        using var stream = File.OpenRead(path);
        using var wrongShape = zeros(3, 2);
        using var wrongType = zeros(new long[] { 2, 3 }, dtype: ScalarType.Float64);
        Assert.Contains("\"m\"", Assert.Throws<ArgumentException>(() => SafeTensors.ReadInto(stream, header, header.Entries[0], wrongShape)).Message);
        Assert.Throws<ArgumentException>(() => SafeTensors.ReadInto(stream, header, header.Entries[0], wrongType));
    }

    [Fact]
    public void Bfloat16_rounds_to_nearest_even_like_pytorch()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("bf16.safetensors");
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 (ties to even: 1); 1 + 3·2^-9 is above halfway (rounds up).
        var values = new float[] { 1 + 1f / 256, 1 + 3f / 512, -1 - 3f / 512 };
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["x"] = tensor(values) }, "BF16");
        var data = File.ReadAllBytes(path)[^6..];
        Assert.Equal(new ushort[] { 0x3F80, 0x3F81, 0xBF81 }, Enumerable.Range(0, 3).Select(i => BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(2 * i))));
        Assert.Equal(new[] { 1f, 1 + 1f / 128, -1 - 1f / 128 }, SafeTensors.Read(path)["x"].data<float>().ToArray());
    }

    /// <summary>Builds a file from a raw JSON header and data bytes, as another writer (or a corrupt one) might.</summary>
    static string RawFile(TempFolder folder, string headerJson, byte[] data, long? declaredHeaderLength = null)
    {
        string path = folder.Combine("raw.safetensors");
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, declaredHeaderLength ?? header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Reads_f64_storage_as_float32()
    {
        using var folder = new TempFolder();
        var data = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 0.25);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), -3);
        string path = RawFile(folder, """{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}""", data);
        Assert.Equal(new[] { 0.25f, -3f }, SafeTensors.Read(path)["d"].data<float>().ToArray());
    }

    public static TheoryData<string, string, int, string> BadHeaders => new()
    {
        { "unknown dtype", """{"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}""", 8, "unsupported dtype" },
        { "byte size does not match shape", """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12" },
        { "offsets beyond the data", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8, "outside the data section" },
        { "reversed offsets", """{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}""", 8, "outside the data section" },
        { "overlapping tensors", """{"v":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlapping" },
        { "missing shape", """{"w":{"dtype":"F32","data_offsets":[0,8]}}""", 8, "shape" },
        { "duplicate name", """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "Duplicate" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Invalid_header_names_file_and_tensor(string description, string headerJson, int dataBytes, string reason)
    {
        using var folder = new TempFolder();
        string path = RawFile(folder, headerJson, new byte[dataBytes]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Matches("[\"']w[\"']", error.Message); // the JSON parser quotes a duplicate name with '…'
        Assert.True(error.Message.Contains(reason), $"{description}: {error.Message}");
    }

    [Fact]
    public void Truncated_files_are_rejected_with_the_file_name()
    {
        using var folder = new TempFolder();
        string shortFile = folder.Combine("short.safetensors");
        File.WriteAllBytes(shortFile, [1, 2, 3]);
        Assert.Contains(shortFile, Assert.Throws<ModelFormatException>(() => SafeTensors.Read(shortFile)).Message);

        string beyond = RawFile(folder, """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4], declaredHeaderLength: 10_000);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(beyond));
        Assert.Contains(beyond, error.Message);
        Assert.Contains("beyond the end of the file", error.Message);

        string notJson = RawFile(folder, "{\"w\":{\"dtype\"", []);
        Assert.Contains("not valid JSON", Assert.Throws<ModelFormatException>(() => SafeTensors.Read(notJson)).Message);

        Assert.Contains("missing.safetensors", Assert.Throws<ModelFormatException>(() => SafeTensors.Read(folder.Combine("missing.safetensors"))).Message);
    }

    [Fact]
    public void Sharded_checkpoint_round_trips_through_the_index()
    {
        using var folder = new TempFolder();
        var tensors = Enumerable.Range(0, 5).ToDictionary(i => $"layer.{i}.weight", i => arange(10 * (i + 1), dtype: ScalarType.Float32));
        // 40…200 bytes each; at most 250 bytes a shard: [0,1,2] (240), [3] (160), [4] (200).
        SafeTensors.WriteCheckpoint(folder.Path, tensors, "F32", maxShardBytes: 250);

        Assert.False(File.Exists(folder.Combine(SafeTensors.SingleFileName)));
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"],
                     Directory.GetFiles(folder.Path, "model-*.safetensors").Select(Path.GetFileName).Order());
        var read = SafeTensors.ReadCheckpoint(folder.Path);
        Assert.Equal(tensors.Keys.Order(), read.Keys.Order());
        foreach (var (name, value) in tensors) Assert.Equal(value.data<float>().ToArray(), read[name].data<float>().ToArray());

        // Rewriting unsharded replaces the shards rather than leaving two layouts side by side.
        SafeTensors.WriteCheckpoint(folder.Path, tensors);
        Assert.Equal([SafeTensors.SingleFileName], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }
}
