// Process-level state: threads, random generators, devices, and the module
// entry point.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/api/include/torch/version.h>

#include <mutex>

#include "common.h"

namespace lw {

namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "setNumThreads", [&]() -> Napi::Value {
    int n = info[0].As<Napi::Number>().Int32Value();
    TORCH_CHECK(n > 0, "expected a positive number of threads, got ", n);
    at::set_num_threads(n);
    return env.Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

uint64_t SeedArg(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless = false;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0) return static_cast<uint64_t>(static_cast<int64_t>(d));
  return static_cast<uint64_t>(d);
}

int NumGpus() { return at::detail::getCUDAHooks().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0; }

// manualSeed(seed): seeds the default CPU generator and every CUDA generator.
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "manualSeed", [&]() -> Napi::Value {
    uint64_t seed = SeedArg(info[0]);
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    for (int i = 0; i < NumGpus(); ++i) {
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, i));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    return env.Undefined();
  });
}

void FinalizeGenerator(Napi::Env, GeneratorBox* box) { delete box; }

// newGenerator(seed, device?) -> handle usable as the `generator` argument.
Napi::Value NewGenerator(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "Generator", [&]() -> Napi::Value {
    std::string dev = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "cpu";
    c10::Device device(dev);
    at::Generator g;
    if (device.is_cpu()) {
      g = at::make_generator<at::CPUGeneratorImpl>(SeedArg(info[0]));
    } else {
      TORCH_CHECK(device.is_cuda(), "generators live on cpu or cuda, got ", dev);
      g = at::detail::getCUDAHooks().getDefaultCUDAGenerator(device.index() < 0 ? 0 : device.index()).clone();
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_current_seed(SeedArg(info[0]));
    }
    return Napi::External<GeneratorBox>::New(env, new GeneratorBox{g}, FinalizeGenerator);
  });
}

at::Generator GeneratorOrDefault(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsExternal()) return UnwrapGenerator(info[0]);
  return at::detail::getDefaultCPUGenerator();
}

// generatorGetState(gen|null) -> uint8 tensor; generatorSetState(gen|null, tensor)
Napi::Value GeneratorGetState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "Generator.getState", [&]() -> Napi::Value {
    auto g = GeneratorOrDefault(info);
    std::lock_guard<std::mutex> lock(g.mutex());
    return WrapTensor(env, g.get_state());
  });
}

Napi::Value GeneratorSetState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "Generator.setState", [&]() -> Napi::Value {
    auto g = GeneratorOrDefault(info);
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(UnwrapTensor(info[1], "Generator.setState"));
    return env.Undefined();
  });
}

Napi::Value GeneratorSeed(const Napi::CallbackInfo& info) {
  auto g = GeneratorOrDefault(info);
  return Napi::BigInt::New(info.Env(), g.current_seed());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), NumGpus()); }

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "cuda.synchronize", [&]() -> Napi::Value {
    int idx = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    at::detail::getCUDAHooks().deviceSynchronize(idx);
    return env.Undefined();
  });
}

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), TORCH_VERSION); }

Napi::Value ParallelInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), at::get_parallel_info());
}

}  // namespace

void InitRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("newGenerator", Napi::Function::New(env, NewGenerator));
  exports.Set("generatorGetState", Napi::Function::New(env, GeneratorGetState));
  exports.Set("generatorSetState", Napi::Function::New(env, GeneratorSetState));
  exports.Set("generatorSeed", Napi::Function::New(env, GeneratorSeed));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("parallelInfo", Napi::Function::New(env, ParallelInfo));
}

}  // namespace lw

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  lw::InitOps(env, exports);
  lw::InitTensor(env, exports);
  lw::InitRuntime(env, exports);
  return exports;
}

NODE_API_MODULE(labelwise_torch, Init)
