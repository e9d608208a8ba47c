// Run the smpvision ONNX model from .NET with Microsoft.ML.OnnxRuntime and SkiaSharp (docs/EMBEDDING.md).
//
//   dotnet run -c Release -- MODEL IMAGE [--mm-per-px S] [--as-is] [--threads N]
//
// Prints one JSON object, {"zone_shares": {...}, "hairs": N}, like examples/node/assess.js and
// examples/python/assess.py (same resize, same numbers). Errors: one line on stderr, exit status 1.
// Written against the APIs of the package versions in SmpvisionAssess.csproj but NOT compiled or run in
// this repository (no dotnet there); the Node.js and Python examples are the tested ones.
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

sealed class AssessException(string message) : Exception(message);

static class Program
{
    const string FormatMajor = "1";  // the smpvision.format_version this program understands
    const int MaxCloseupSide = 1024;  // the smpvision runtime's cap on a rescaled close-up
    const int MinSide = 32;

    static int Main(string[] args)
    {
        try
        {
            Console.WriteLine(Assess(args).ToJsonString());
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"smpvision-assess: {FirstLine(e.Message)}");
            return 1;
        }
    }

    static JsonObject Assess(string[] args)
    {
        var positional = new List<string>();
        double? mmPerPx = null;
        bool asIs = false;
        int threads = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new AssessException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--as-is": asIs = true; break;
                case "--mm-per-px": mmPerPx = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: positional.Add(args[i]); break;
            }
        }
        if (positional.Count != 2)
            throw new AssessException("usage: smpvision-assess MODEL IMAGE [--mm-per-px S] [--as-is] [--threads N]");
        if (mmPerPx is not null && !(mmPerPx > 0)) throw new AssessException("--mm-per-px must be positive");
        string modelPath = positional[0], imagePath = positional[1];

        // model: input/output names, format version and everything else come from the file
        using var session = OpenSession(modelPath, threads);
        var meta = session.ModelMetadata.CustomMetadataMap;
        var classes = JsonNode.Parse(meta["smpvision.class_names"])!.AsArray().Select(n => (string)n!).ToArray();

        // image: 8-bit RGB, row-major [H, W, 3]
        var (rgb, h, w) = LoadRgb(imagePath);
        if (!asIs)
        {
            double factor;
            if (mmPerPx is null)
                factor = int.Parse(meta["smpvision.overview_side_px"], CultureInfo.InvariantCulture) / (double)Math.Max(h, w);
            else
            {
                // finer than typical down to it, up to the coarsest trained scale as is, coarser up to the coarsest
                var scale = JsonNode.Parse(meta["smpvision.closeup_mm_per_px"])!;
                double target = Math.Min(Math.Max(mmPerPx.Value, (double)scale["typical"]!), (double)scale["max"]!);
                factor = Math.Min(mmPerPx.Value / target, MaxCloseupSide / (double)Math.Max(h, w));
            }
            (rgb, h, w) = Resize(rgb, h, w, factor);
        }

        // run: uint8 [1, H, W, 3] in; zones float32 [1, C, H, W] and density float32 [1, 1, H, W] out
        var input = new DenseTensor<byte>(rgb, new[] { 1, h, w, 3 });
        using var results = session.Run(
            new[] { NamedOnnxValue.CreateFromTensor("image", input) }, new[] { "zones", "density" });
        float[] zones = results.First(r => r.Name == "zones").AsTensor<float>().ToArray();
        float[] density = results.First(r => r.Name == "density").AsTensor<float>().ToArray();

        // headline numbers: shares of scalp (argmax class not background) and the density's sum
        int background = Array.IndexOf(classes, "background"), hw = h * w;
        if (background < 0 || zones.Length != classes.Length * hw)
            throw new AssessException($"model classes [{string.Join(", ", classes)}] do not match its zones output");
        var counts = new long[classes.Length];
        for (int p = 0; p < hw; p++)
        {
            int best = 0;
            for (int c = 1; c < classes.Length; c++)
                if (zones[c * hw + p] > zones[best * hw + p]) best = c;  // ties: the lower class id
            counts[best]++;
        }
        long scalp = hw - counts[background];
        var shares = new JsonObject();
        for (int c = 0; c < classes.Length; c++)
            if (c != background) shares[classes[c]] = scalp > 0 ? (double)counts[c] / scalp : 0.0;
        double hairs = 0;
        foreach (float v in density) hairs += v;
        return new JsonObject { ["zone_shares"] = shares, ["hairs"] = hairs };
    }

    static InferenceSession OpenSession(string path, int threads)
    {
        if (!File.Exists(path)) throw new AssessException($"model file {path} not found");
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        InferenceSession session;
        try { session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e)
        {
            throw new AssessException($"{path} is not a loadable ONNX model: {FirstLine(e.Message)}");
        }
        var inputs = session.InputMetadata.Keys.ToList();
        var outputs = session.OutputMetadata.Keys.ToList();
        var meta = session.ModelMetadata.CustomMetadataMap;
        string version = meta.TryGetValue("smpvision.format_version", out var v) ? v : "";
        string? problem = null;
        if (inputs.Count != 1 || inputs[0] != "image" || !outputs.Contains("zones") || !outputs.Contains("density"))
            problem = $"{path} is not an smpvision model: inputs [{string.Join(", ", inputs)}], " +
                      $"outputs [{string.Join(", ", outputs)}] (expected input image, outputs zones and density)";
        else if (version.Split('.')[0] != FormatMajor)
            problem = $"{path} has format version {(version == "" ? "none" : version)}; this program reads {FormatMajor}";
        if (problem is null) return session;
        session.Dispose();
        throw new AssessException(problem);
    }

    // EXIF orientation is not applied (nor by the Node.js and Python examples); alpha is dropped.
    static (byte[], int, int) LoadRgb(string path)
    {
        if (!File.Exists(path)) throw new AssessException($"image file {path} not found");
        using var codec = SKCodec.Create(path) ?? throw new AssessException($"{path} is not a PNG or JPEG image");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = SKBitmap.Decode(codec, info) ?? throw new AssessException($"{path} could not be decoded");
        int h = bitmap.Height, w = bitmap.Width, stride = bitmap.RowBytes;
        if (Math.Min(h, w) < MinSide) throw new AssessException($"{path} is {w}x{h} px; need {MinSide}x{MinSide}");
        byte[] rgba = bitmap.Bytes;
        var rgb = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = rgba[y * stride + x * 4 + c];
        return (rgb, h, w);
    }

    // 1-D taps per output pixel: area average when shrinking, bilinear (pixel centres aligned) when
    // enlarging; the same double arithmetic as taps() in examples/python/assess.py and assess.js.
    static List<(int J, double W)>[] Taps(int nIn, int nOut)
    {
        var rows = new List<(int J, double W)>[nOut];
        double s = (double)nIn / nOut;
        for (int i = 0; i < nOut; i++)
        {
            rows[i] = new List<(int J, double W)>();
            if (nOut < nIn)
            {
                double lo = i * s, hi = (i + 1) * s;
                for (int j = (int)Math.Floor(lo); j < Math.Min((int)Math.Ceiling(hi), nIn); j++)
                    rows[i].Add((j, (Math.Min(hi, j + 1) - Math.Max(lo, j)) / s));
            }
            else
            {
                double x = Math.Max((i + 0.5) * s - 0.5, 0.0);
                int j = Math.Min((int)Math.Floor(x), nIn - 1);
                double t = x - j;
                rows[i].Add((j, 1.0 - t));
                rows[i].Add((Math.Min(j + 1, nIn - 1), t));
            }
        }
        return rows;
    }

    static (byte[], int, int) Resize(byte[] src, int h, int w, double factor)
    {
        if (Math.Abs(factor - 1.0) < 1e-3) return (src, h, w);
        int outW = Math.Max(MinSide, (int)Math.Floor(w * factor + 0.5));
        int outH = Math.Max(MinSide, (int)Math.Floor(h * factor + 0.5));
        var tx = Taps(w, outW);  // along x first, then y
        var acc = new double[h * outW * 3];
        for (int y = 0; y < h; y++)
            for (int i = 0; i < outW; i++)
                for (int c = 0; c < 3; c++)
                {
                    double v = 0;
                    foreach (var (j, wt) in tx[i]) v += wt * src[(y * w + j) * 3 + c];
                    acc[(y * outW + i) * 3 + c] = v;
                }
        var ty = Taps(h, outH);
        var dst = new byte[outH * outW * 3];
        for (int i = 0; i < outH; i++)
            for (int x = 0; x < outW * 3; x++)
            {
                double v = 0;
                foreach (var (j, wt) in ty[i]) v += wt * acc[j * outW * 3 + x];
                dst[i * outW * 3 + x] = (byte)Math.Clamp(Math.Floor(v + 0.5), 0.0, 255.0);
            }
        return (dst, outH, outW);
    }

    static string FirstLine(string text) => text.Trim().Split('\n')[0].Trim();
}
