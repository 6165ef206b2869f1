// Samples a few images per class from a model bundle with the Evlf.OnnxHybrid package and writes them as PNGs.
//   dotnet run -- BUNDLE_DIR OUT_DIR        e.g.  dotnet run -- ../../models/fmnist-ldm /tmp/quickstart
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Onnx;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: dotnet run -- BUNDLE_DIR OUT_DIR");
    return 2;
}
string bundleDir = args[0], outDir = args[1];
const int PerClass = 2, Steps = 20;

try
{
    var bundle = ModelBundle.Load(bundleDir);                       // bundle.json + its ONNX graphs, checked
    string denoiser = bundle.Manifest.Denoisers.Keys.Order(StringComparer.Ordinal).First();   // "dit" in models/fmnist-ldm
    using var runtime = new BundleRuntime(bundle, new SessionSettings(ExecutionDevice.Cpu));
    for (int c = 0; c < bundle.Manifest.Classes.Count; c++)
        runtime.Generate(denoiser, classIndex: c, n: PerClass, new SampleOptions(Steps: Steps, Cfg: 4), seed: 0)
            .Save(outDir);                                          // OUT_DIR/<class>/<i>.png; never replaces a file
    Console.WriteLine($"wrote {PerClass * bundle.Manifest.Classes.Count} images ({denoiser}, {Steps} steps) to {outDir}");
    // The text encoder (all-MiniLM-L6-v2, whose files the Evlf.OnnxHybrid.MiniLM package puts in minilm/ beside the app)
    // embeds the class prompts that condition the UNet and EVLF's fusion.
    using (var prompts = runtime.TextEncoder.Encode([bundle.Manifest.Prompt(0)]))
        Console.WriteLine($"'{bundle.Manifest.Prompt(0)}' -> {prompts.Pooled.shape[^1]} numbers (MiniLM)");
    return 0;
}
catch (UserInputException e)                                        // a bad path, a corrupt bundle, a missing native library
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

// The whole distillation (MGD3 + EVLF, 10 images per class) is one call; it reads Fashion-MNIST from
// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist) unless Data names another data spec:
//
//   using Evlf.OnnxHybrid.Distillation;
//   var result = new DistillationPipeline(DistillOptions.Default with   // evlf distill's recipe (DistillOptions.Released: the released one)
//       { Bundle = bundleDir, Ipc = 10, Out = "runs/from-code" }).Run();    // optional: an ILogger, an IProgress<WorkProgress>
//   Console.WriteLine($"{result.Images} images in {result.Out}");       // images/<class>/<i>.png + manifest.json
