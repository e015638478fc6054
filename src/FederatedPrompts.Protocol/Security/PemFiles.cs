using System.Security.Cryptography.X509Certificates;

namespace FederatedPrompts.Protocol.Security;

/// <summary>
/// Certificates on disk as PEM pairs: <c>name.crt</c> (the certificate) and <c>name.key</c> (PKCS#8 private key,
/// owner-only on Unix since it is the identity itself).
/// </summary>
public static class PemFiles
{
    public static string CertificatePath(string directory, string name) => Path.Combine(directory, name + ".crt");
    public static string KeyPath(string directory, string name) => Path.Combine(directory, name + ".key");

    /// <summary>Writes name.crt and name.key (mode 0600), replacing existing files.</summary>
    public static void Save(X509Certificate2 certificate, string directory, string name)
    {
        var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException($"certificate \"{certificate.Subject}\" has no ECDSA private key to save");
        Directory.CreateDirectory(directory);
        File.WriteAllText(CertificatePath(directory, name), certificate.ExportCertificatePem() + "\n");
        WriteOwnerOnly(KeyPath(directory, name), key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>A certificate with its private key, ready for SslStream (server or client side).</summary>
    public static X509Certificate2 Load(string certificatePath, string keyPath)
    {
        RequireFile(certificatePath);
        RequireFile(keyPath);
        X509Certificate2 pem;
        try { pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath); }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidDataException($"{certificatePath} / {keyPath}: not a PEM certificate and its matching private key ({e.Message})", e);
        }
        using (pem) return Reimport(pem);
    }

    /// <summary>A certificate without key: the CA a peer trusts.</summary>
    public static X509Certificate2 LoadCertificate(string certificatePath)
    {
        RequireFile(certificatePath);
        try { return X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath)); }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidDataException($"{certificatePath}: not a PEM certificate ({e.Message})", e);
        }
    }

    /// <summary>
    /// Keys made in memory or read from PEM are ephemeral; TLS stacks (SChannel on Windows, and some OpenSSL paths)
    /// want a key they can find again, so the pair goes once through PKCS#12.
    /// </summary>
    internal static X509Certificate2 Reimport(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);

    static void WriteOwnerOnly(string path, string text)
    {
        // Created with 0600 from the start (no window with wider permissions); an old file is replaced, since
        // the create mode applies only to new files.
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(text);
    }

    static void RequireFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
    }
}
