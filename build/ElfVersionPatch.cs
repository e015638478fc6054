// Makes TorchSharp-cpu 0.107.0's libLibTorchSharp.so load on systems whose libstdc++ is older than the
// one it was linked against (Debian 12 ships GLIBCXX_3.4.30; the library asks for GLIBCXX_3.4.32).
//
// The only symbol bound to GLIBCXX_3.4.32 is the marker `_ZSt21ios_base_library_initv`, which no
// relocation uses, so the requirement can safely be made weak: setting VER_FLG_WEAK (0x2) in the
// `vna_flags` of that entry of `.gnu.version_r` turns the loader's fatal "version not found" into a
// silent skip. The patch is applied only to copies in build/test/publish outputs (never the NuGet
// cache), only for versions the system libstdc++ really lacks, and only when every symbol bound to the
// missing version is a known marker. Written for netstandard2.0 (what inline tasks compile against) and compiled twice from this one file: as an MSBuild inline task
// (build/TorchSharpNative.targets) and into the build tests.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace FederatedPrompts.Build
{
    /// <summary>One entry of `.gnu.version_r`: library <see cref="File"/> must provide <see cref="Version"/>.</summary>
    public sealed class VersionNeed
    {
        public string File = "";
        public string Version = "";
        public ushort Flags;
        public ushort Index;        // vna_other: the value .gnu.version uses for symbols bound to this need
        public long FlagsOffset;    // file offset of vna_flags
        public bool IsWeak => (Flags & ElfVersionPatch.VerFlagWeak) != 0;
    }

    public enum PatchOutcome { NotNeeded, Patched, AlreadyPatched, Refused }

    public sealed class PatchResult
    {
        public PatchOutcome Outcome;
        public List<string> Versions = new List<string>();
        public string Reason = "";
    }

    public static class ElfVersionPatch
    {
        public const ushort VerFlagWeak = 0x2;
        const uint ShtDynsym = 11, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;

        /// <summary>Symbols that carry a version only to mark the libstdc++ they were built against.</summary>
        public static readonly string[] MarkerSymbols = { "_ZSt21ios_base_library_initv" };

        public static readonly string[] SystemLibstdcxxCandidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };

        sealed class Section { public uint Type; public long Offset; public long Size; public uint Link; public uint Info; public long EntSize; }

        static Section[] ReadSections(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF is supported");
            long shoff = (long)U64(elf, 0x28);
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            if (shentsize < 64 || shoff <= 0 || shoff + (long)shentsize * shnum > elf.Length)
                throw new InvalidDataException("section header table lies outside the file");
            var sections = new Section[shnum];
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                sections[i] = new Section
                {
                    Type = U32(elf, h + 4), Offset = (long)U64(elf, h + 24), Size = (long)U64(elf, h + 32),
                    Link = U32(elf, h + 40), Info = U32(elf, h + 44), EntSize = (long)U64(elf, h + 56),
                };
            }
            return sections;
        }

        public static List<VersionNeed> ReadVersionNeeds(byte[] elf)
        {
            var sections = ReadSections(elf);
            var needs = new List<VersionNeed>();
            foreach (var s in sections.Where(s => s.Type == ShtGnuVerneed))
            {
                var strtab = sections[s.Link];
                long vn = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    ushort count = U16(elf, vn + 2);
                    string file = CString(elf, strtab.Offset + U32(elf, vn + 4));
                    long aux = vn + U32(elf, vn + 8);
                    for (int j = 0; j < count; j++)
                    {
                        needs.Add(new VersionNeed
                        {
                            File = file, Flags = U16(elf, aux + 4), Index = U16(elf, aux + 6),
                            Version = CString(elf, strtab.Offset + U32(elf, aux + 8)), FlagsOffset = aux + 4,
                        });
                        aux += U32(elf, aux + 12);
                    }
                    vn += U32(elf, vn + 12);
                }
            }
            return needs;
        }

        public static HashSet<string> ReadVersionDefinitions(byte[] elf)
        {
            var sections = ReadSections(elf);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in sections.Where(s => s.Type == ShtGnuVerdef))
            {
                var strtab = sections[s.Link];
                long vd = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    long aux = vd + U32(elf, vd + 12);
                    names.Add(CString(elf, strtab.Offset + U32(elf, aux)));
                    vd += U32(elf, vd + 16);
                }
            }
            return names;
        }

        /// <summary>Names of dynamic symbols whose `.gnu.version` entry points at version index <paramref name="index"/>.</summary>
        public static List<string> SymbolsBoundTo(byte[] elf, ushort index)
        {
            var sections = ReadSections(elf);
            var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
            var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
            var result = new List<string>();
            if (dynsym == null || versym == null) return result;
            var strtab = sections[dynsym.Link];
            long count = dynsym.Size / Math.Max(24, dynsym.EntSize);
            for (long i = 0; i < count; i++)
            {
                if ((U16(elf, versym.Offset + 2 * i) & 0x7fff) != index) continue;
                result.Add(CString(elf, strtab.Offset + U32(elf, dynsym.Offset + i * 24)));
            }
            return result;
        }

        /// <summary>
        /// Weakens the libstdc++ version needs of <paramref name="libraryPath"/> that <paramref name="systemVersions"/>
        /// lacks, writing through a temporary file so a hard link into the package cache is never modified.
        /// </summary>
        public static PatchResult WeakenMissingLibstdcxxVersions(string libraryPath, ISet<string> systemVersions)
        {
            byte[] elf = File.ReadAllBytes(libraryPath);
            DateTime shippedTime = File.GetLastWriteTimeUtc(libraryPath);
            var missing = ReadVersionNeeds(elf)
                .Where(n => n.File.StartsWith("libstdc++.so", StringComparison.Ordinal) && !systemVersions.Contains(n.Version))
                .ToList();
            var result = new PatchResult { Versions = missing.Select(n => n.Version).ToList() };
            if (missing.Count == 0) { result.Outcome = PatchOutcome.NotNeeded; return result; }
            if (missing.All(n => n.IsWeak)) { result.Outcome = PatchOutcome.AlreadyPatched; return result; }
            foreach (var need in missing)
            {
                var unsafeSymbols = SymbolsBoundTo(elf, need.Index).Where(s => !MarkerSymbols.Contains(s)).ToList();
                if (unsafeSymbols.Count > 0)
                {
                    result.Outcome = PatchOutcome.Refused;
                    result.Reason = $"{need.Version} is needed by real symbols ({string.Join(", ", unsafeSymbols.Take(5))}); " +
                                    "install a newer libstdc++ instead";
                    return result;
                }
            }
            foreach (var need in missing)
            {
                ushort flags = (ushort)(need.Flags | VerFlagWeak);
                elf[need.FlagsOffset] = (byte)flags;
                elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
            }
            string temp = libraryPath + ".patching";
            File.WriteAllBytes(temp, elf);
            File.Replace(temp, libraryPath, null);   // rename: a new inode, so a hard-linked original stays intact
            // Same size and time as the package's file: MSBuild's incremental copy then leaves the patched copy alone.
            File.SetLastWriteTimeUtc(libraryPath, shippedTime);
            result.Outcome = PatchOutcome.Patched;
            return result;
        }

        /// <summary>Version names the first libstdc++ found on this system defines, or null when none is found.</summary>
        public static HashSet<string>? SystemLibstdcxxVersions(out string? path)
        {
            path = SystemLibstdcxxCandidates.FirstOrDefault(File.Exists);
            return path == null ? null : ReadVersionDefinitions(File.ReadAllBytes(path));
        }

        static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
        static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

        static string CString(byte[] b, long o)
        {
            if (o < 0 || o >= b.Length) throw new InvalidDataException($"string offset {o} lies outside the file");
            long end = o;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
        }
    }

#if !ELF_PATCH_WITHOUT_MSBUILD
    /// <summary>MSBuild task: patches every libLibTorchSharp.so under <see cref="Directory"/> where the system needs it.</summary>
    public sealed class PatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public string Directory { get; set; } = "";

        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || !System.IO.Directory.Exists(Directory)) return true;
            var libraries = System.IO.Directory.GetFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories);
            if (libraries.Length == 0) return true;
            var system = ElfVersionPatch.SystemLibstdcxxVersions(out var systemPath);
            if (system == null)
            {
                Log.LogWarning("FederatedPrompts: no system libstdc++.so.6 found; TorchSharp native library left as shipped.");
                return true;
            }
            foreach (var library in libraries)
            {
                var result = ElfVersionPatch.WeakenMissingLibstdcxxVersions(library, system);
                switch (result.Outcome)
                {
                    case PatchOutcome.Patched:
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                            $"FederatedPrompts: {systemPath} lacks {string.Join(", ", result.Versions)}; marked weak in {library}");
                        break;
                    case PatchOutcome.Refused:
                        Log.LogWarning($"FederatedPrompts: cannot patch {library}: {result.Reason}");
                        break;
                }
            }
            return true;
        }
    }
#endif
}
