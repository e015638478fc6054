using System.Runtime.InteropServices;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// How a process that runs models asks glibc's malloc to give large blocks back. libtorch allocates every tensor with
/// malloc; glibc serves blocks above its mmap threshold with mmap (returned to the system when freed), but it raises that
/// threshold to the size of each such block freed (up to 32 MiB), after which tensors of those sizes come from its heaps,
/// where freed memory stays resident and fragments. Here the heaps grow pass after pass (likely because dispose scopes free
/// tensors a layer at a time, where Python frees each as its last reference goes): measured on GPT-2 small, a forward pass of
/// 32 texts peaked at 1,724 MiB after two batches and 2,794 MiB after four, against PyTorch's 1,119; with the threshold
/// fixed, 1,098 MiB.
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
    /// The price is time: every large tensor is a fresh mapping whose pages fault in (measured by <c>bench peer</c>: passes
    /// took 15–53 % longer than with glibc's moving threshold). An operator who prefers speed to bounded memory sets glibc's own
    /// <c>MALLOC_MMAP_THRESHOLD_</c> (or <c>glibc.malloc.mmap_threshold</c> in <c>GLIBC_TUNABLES</c>), which is then left as
    /// given. Elsewhere (another OS, or a C library without mallopt, as musl) nothing changes. False when nothing was set.
    /// </summary>
    public static bool ReturnLargeBlocks()
    {
        if (!OperatingSystem.IsLinux() || OperatorChoseThreshold()) return false;
        try
        {
            return Mallopt(MmapThresholdParameter, MmapThresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Whether this process's environment sets glibc's mmap threshold itself.</summary>
    public static bool OperatorChoseThreshold() =>
        Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null ||
        (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.mmap_threshold", StringComparison.Ordinal) ?? false);
}
