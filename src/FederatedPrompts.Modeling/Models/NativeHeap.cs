using System.Runtime.InteropServices;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// How a process that runs models asks glibc's malloc to give large blocks back. libtorch allocates every tensor with
/// malloc; glibc serves blocks above its mmap threshold with mmap (returned to the system when freed), but it raises that
/// threshold to the size of each such block freed (up to 32 MiB), after which tensors of those sizes come from its heaps,
/// where freed memory stays resident and fragments. Tensors freed by dispose scopes rather than as soon as their last
/// reference goes, as Python frees them, make the heaps grow pass after pass: measured on GPT-2 small, a forward pass of
/// 32 texts peaked at 1,724 MiB after two batches and 2,794 MiB after four, against PyTorch's 1,119; with the threshold
/// fixed, 1,098 MiB, and no slower.
/// </summary>
public static class NativeHeap
{
    /// <summary>Blocks from this size up are mapped on their own and returned when freed; smaller ones (metadata, small tensors) stay on the heap.</summary>
    public const int MmapThresholdBytes = 1 << 20;

    const int MmapThresholdParameter = -3;   // M_MMAP_THRESHOLD in glibc's malloc.h

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int parameter, int value);

    /// <summary>
    /// Fixes glibc's mmap threshold at <see cref="MmapThresholdBytes"/>, which also stops it from moving; true when set.
    /// Elsewhere (another OS, or a C library without mallopt, as musl) nothing changes and it returns false.
    /// </summary>
    public static bool ReturnLargeBlocks()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return Mallopt(MmapThresholdParameter, MmapThresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
