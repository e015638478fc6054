using System.Text;
using FederatedPrompts.Build;

namespace FederatedPrompts.Build.Tests;

public class ElfVersionPatchTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("elfpatch").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string PackageLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                      ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    // A libstdc++ like Debian 12's: everything the shipped library asks for except GLIBCXX_3.4.32.
    static readonly HashSet<string> OldLibstdcxx = new(
        ElfVersionPatch.ReadVersionNeeds(File.ReadAllBytes(PackageLibrary())).Select(n => n.Version).Where(v => v != "GLIBCXX_3.4.32"))
        { "GLIBCXX_3.4" };

    [Fact]
    public void Shipped_library_needs_GLIBCXX_3_4_32_only_for_the_marker_symbol()
    {
        byte[] elf = File.ReadAllBytes(PackageLibrary());
        var need = Assert.Single(ElfVersionPatch.ReadVersionNeeds(elf), n => n.Version == "GLIBCXX_3.4.32");
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.False(need.IsWeak);
        Assert.Equal(new[] { "_ZSt21ios_base_library_initv" }, ElfVersionPatch.SymbolsBoundTo(elf, need.Index));
    }

    [Fact]
    public void Patch_sets_only_the_weak_bit_of_the_missing_version_and_is_idempotent()
    {
        string original = PackageLibrary();
        string copy = Path.Combine(_dir, "libLibTorchSharp.so");
        File.Copy(original, copy);
        string hardLink = Path.Combine(_dir, "cache-twin.so");
        Assert.Equal(0, Link(copy, hardLink));

        var first = ElfVersionPatch.WeakenMissingLibstdcxxVersions(copy, OldLibstdcxx);
        Assert.Equal(PatchOutcome.Patched, first.Outcome);
        Assert.Equal(new[] { "GLIBCXX_3.4.32" }, first.Versions);

        byte[] before = File.ReadAllBytes(original), after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        long flagsOffset = ElfVersionPatch.ReadVersionNeeds(before).Single(n => n.Version == "GLIBCXX_3.4.32").FlagsOffset;
        Assert.Equal(new[] { (int)flagsOffset }, changed);
        Assert.Equal(before[flagsOffset] | 0x2, after[flagsOffset]);
        Assert.True(ElfVersionPatch.ReadVersionNeeds(after).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);

        // The other name of the hard link (as a package-cache copy would be) keeps the shipped bytes.
        Assert.Equal(before, File.ReadAllBytes(hardLink));
        Assert.Equal(File.GetLastWriteTimeUtc(hardLink), File.GetLastWriteTimeUtc(copy));

        Assert.Equal(PatchOutcome.AlreadyPatched, ElfVersionPatch.WeakenMissingLibstdcxxVersions(copy, OldLibstdcxx).Outcome);
        Assert.Equal(after, File.ReadAllBytes(copy));
    }

    [Fact]
    public void Nothing_is_changed_where_the_system_has_every_version()
    {
        string copy = Path.Combine(_dir, "lib.so");
        File.Copy(PackageLibrary(), copy);
        var modern = new HashSet<string>(OldLibstdcxx) { "GLIBCXX_3.4.32" };
        Assert.Equal(PatchOutcome.NotNeeded, ElfVersionPatch.WeakenMissingLibstdcxxVersions(copy, modern).Outcome);
        Assert.Equal(File.ReadAllBytes(PackageLibrary()), File.ReadAllBytes(copy));
    }

    [Fact]
    public void System_libstdcxx_version_definitions_are_read()
    {
        if (!OperatingSystem.IsLinux()) return;
        var versions = ElfVersionPatch.SystemLibstdcxxVersions(out var path);
        Assert.NotNull(path);
        Assert.Contains("GLIBCXX_3.4", versions!);
        Assert.Contains("GLIBCXX_3.4.30", versions!);
    }

    // A hand-built ELF: one need (libstdc++.so.6, GLIBCXX_3.4.99, index 2) and two dynamic symbols.
    static byte[] HandBuiltElf(string secondSymbolName, ushort secondSymbolVersion)
    {
        var strtab = new MemoryStream();
        int Str(string s) { int at = (int)strtab.Length; strtab.Write(Encoding.ASCII.GetBytes(s + "\0")); return at; }
        Str("");
        int lib = Str("libstdc++.so.6"), ver = Str("GLIBCXX_3.4.99");
        int marker = Str("_ZSt21ios_base_library_initv"), second = Str(secondSymbolName);

        var verneed = new List<byte>();
        verneed.AddRange(U16(1)); verneed.AddRange(U16(1)); verneed.AddRange(U32(lib)); verneed.AddRange(U32(16)); verneed.AddRange(U32(0));
        verneed.AddRange(U32(0x0a0b0c0d)); verneed.AddRange(U16(0)); verneed.AddRange(U16(2)); verneed.AddRange(U32(ver)); verneed.AddRange(U32(0));

        var dynsym = new byte[3 * 24];
        BitConverter.GetBytes(marker).CopyTo(dynsym, 24);
        BitConverter.GetBytes(second).CopyTo(dynsym, 48);
        var versym = U16(0).Concat(U16(2)).Concat(U16(secondSymbolVersion)).ToArray();

        var blobs = new[] { strtab.ToArray(), verneed.ToArray(), dynsym, versym };
        var body = new List<byte>(new byte[64]);
        var offsets = new List<long>();
        foreach (var b in blobs) { offsets.Add(body.Count); body.AddRange(b); while (body.Count % 8 != 0) body.Add(0); }
        long shoff = body.Count;
        (uint type, uint link, uint info, long entsize)[] headers =
            { (0, 0, 0, 0), (3, 0, 0, 0), (0x6ffffffe, 1, 1, 0), (11, 1, 1, 24), (0x6fffffff, 3, 0, 2) };
        for (int i = 0; i < headers.Length; i++)
        {
            var h = new byte[64];
            BitConverter.GetBytes(headers[i].type).CopyTo(h, 4);
            if (i > 0) { BitConverter.GetBytes(offsets[i - 1]).CopyTo(h, 24); BitConverter.GetBytes((long)blobs[i - 1].Length).CopyTo(h, 32); }
            BitConverter.GetBytes(headers[i].link).CopyTo(h, 40);
            BitConverter.GetBytes(headers[i].info).CopyTo(h, 44);
            BitConverter.GetBytes(headers[i].entsize).CopyTo(h, 56);
            body.AddRange(h);
        }
        var elf = body.ToArray();
        new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1 }.CopyTo(elf, 0);
        BitConverter.GetBytes(shoff).CopyTo(elf, 0x28);
        BitConverter.GetBytes((ushort)64).CopyTo(elf, 0x3A);
        BitConverter.GetBytes((ushort)headers.Length).CopyTo(elf, 0x3C);
        return elf;
    }

    [Fact]
    public void Hand_built_elf_is_parsed_and_its_marker_only_need_is_weakened()
    {
        byte[] elf = HandBuiltElf("_ZNSt6thread4joinEv", 1);   // second symbol is unversioned-global (index 1)
        var need = Assert.Single(ElfVersionPatch.ReadVersionNeeds(elf));
        Assert.Equal(("libstdc++.so.6", "GLIBCXX_3.4.99", (ushort)2, (ushort)0), (need.File, need.Version, need.Index, need.Flags));
        Assert.Equal(new[] { "_ZSt21ios_base_library_initv" }, ElfVersionPatch.SymbolsBoundTo(elf, 2));

        string path = Path.Combine(_dir, "hand.so");
        File.WriteAllBytes(path, elf);
        Assert.Equal(PatchOutcome.Patched, ElfVersionPatch.WeakenMissingLibstdcxxVersions(path, OldLibstdcxx).Outcome);
        Assert.Equal(2, File.ReadAllBytes(path)[need.FlagsOffset]);
    }

    [Fact]
    public void Need_used_by_a_real_symbol_is_refused_and_the_file_left_alone()
    {
        byte[] elf = HandBuiltElf("_ZNSt6thread4joinEv", 2);
        string path = Path.Combine(_dir, "real.so");
        File.WriteAllBytes(path, elf);
        var result = ElfVersionPatch.WeakenMissingLibstdcxxVersions(path, OldLibstdcxx);
        Assert.Equal(PatchOutcome.Refused, result.Outcome);
        Assert.Contains("_ZNSt6thread4joinEv", result.Reason);
        Assert.Equal(elf, File.ReadAllBytes(path));
    }

    [Fact]
    public void Non_elf_input_is_rejected_with_a_reason()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ElfVersionPatch.ReadVersionNeeds(Encoding.ASCII.GetBytes("#!/bin/sh\necho not a library\n" + new string(' ', 64))));
        Assert.Contains("not an ELF", ex.Message);
        var truncated = HandBuiltElf("x", 1)[..80];
        Assert.Throws<InvalidDataException>(() => ElfVersionPatch.ReadVersionNeeds(truncated));
    }

    static byte[] U16(int v) => BitConverter.GetBytes((ushort)v);
    static byte[] U32(int v) => BitConverter.GetBytes(v);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int Link(string existing, string newPath);
}
