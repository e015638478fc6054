using System.Buffers.Binary;
using System.Collections.Concurrent;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>
/// Answers a request whose body is not one well-formed message of the method's request type with INVALID_ARGUMENT,
/// before gRPC reads it. gRPC fails such a request while reading the message, before any interceptor, with UNKNOWN and
/// an error log with the parser's stack trace (about 1.8 KB a request, from anyone holding a certificate of the CA).
/// Here the caller gets a status naming the problem, and the log gets one short line per identity at most every
/// <see cref="LogInterval"/>, with the count of those not logged since. Compressed messages and bodies over the size limit
/// pass through: gRPC answers those itself, with a status and no stack trace.
/// </summary>
public sealed class MalformedRequestGuard
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    /// <summary>Request message parser of every method of the coordinator's services, by HTTP path.</summary>
    static readonly Dictionary<string, MessageDescriptor> RequestTypes = new[] { Protocol.V1.Federation.Descriptor, Inference.Descriptor, Operator.Descriptor }
        .SelectMany(service => service.Methods)
        .ToDictionary(method => $"/{method.Service.FullName}/{method.Name}", method => method.InputType, StringComparer.Ordinal);

    readonly int _maxMessageBytes;
    readonly Hosting.CallerIdentity _caller;
    readonly ILogger _log;
    readonly TimeProvider _time;
    readonly ConcurrentDictionary<string, (DateTimeOffset LoggedAt, int Unlogged)> _lastLogged = new(StringComparer.Ordinal);

    public MalformedRequestGuard(int maxMessageBytes, Hosting.CallerIdentity caller, ILogger log, TimeProvider time)
    {
        _maxMessageBytes = maxMessageBytes;
        _caller = caller;
        _log = log;
        _time = time;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!(context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) ?? false)
            || !RequestTypes.TryGetValue(context.Request.Path.Value ?? "", out var type))
        {
            await next(context);
            return;
        }
        // The frame header (5 bytes) plus one byte past the limit tells an oversized body from one that fits.
        int limit = _maxMessageBytes + 6;
        context.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: limit);
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while (body.Length < limit && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - body.Length)), context.RequestAborted)) > 0)
            body.Write(buffer, 0, read);
        context.Request.Body.Position = 0;
        if (body.Length >= limit || Problem(body.GetBuffer().AsSpan(0, (int)body.Length), type) is not { } problem)
        {
            await next(context);
            return;
        }
        string detail = $"the request is not a valid {type.FullName}: {problem}";
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)StatusCode.InvalidArgument).ToString();
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(detail);
        Log(_caller.Describe(context), context.Request.Path.Value!, detail);
    }

    /// <summary>What is wrong with the body as a gRPC frame holding one <paramref name="type"/> message; null if nothing is (or gRPC will say).</summary>
    static string? Problem(ReadOnlySpan<byte> body, MessageDescriptor type)
    {
        if (body.Length < 5) return $"the body has {body.Length} bytes, fewer than a message frame's 5-byte header";
        if (body[0] > 1) return $"the frame's compressed flag is {body[0]}, not 0 or 1";
        if (body[0] == 1) return null;   // compressed: gRPC decompresses and reads it
        uint length = BinaryPrimitives.ReadUInt32BigEndian(body[1..5]);
        if (length != body.Length - 5) return $"the frame announces {length} message bytes, but {body.Length - 5} follow";
        try
        {
            type.Parser.ParseFrom(body[5..]);
            return null;
        }
        catch (InvalidProtocolBufferException e)
        {
            return e.Message;
        }
    }

    void Log(string identity, string path, string detail)
    {
        var now = _time.GetUtcNow();
        bool due = false;
        int unlogged = 0;
        _lastLogged.AddOrUpdate(identity, _ => { due = true; return (now, 0); }, (_, last) =>
        {
            if (now - last.LoggedAt < LogInterval) return (last.LoggedAt, last.Unlogged + 1);
            (due, unlogged) = (true, last.Unlogged);
            return (now, 0);
        });
        if (due)
            _log.LogWarning("{Path} refused (InvalidArgument) from {Identity}: {Detail}{Since}", path, identity, detail,
                unlogged > 0 ? $" ({unlogged} more malformed requests from {identity} not logged since the last line)" : "");
    }
}

public static class MalformedRequestGuardExtensions
{
    public static IApplicationBuilder UseMalformedRequestGuard(this IApplicationBuilder app, int maxMessageBytes, ILogger log, TimeProvider time)
    {
        var guard = new MalformedRequestGuard(maxMessageBytes, app.ApplicationServices.GetRequiredService<Hosting.CallerIdentity>(), log, time);
        return app.Use((context, next) => guard.InvokeAsync(context, next));
    }
}
