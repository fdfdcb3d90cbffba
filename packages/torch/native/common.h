// Shared pieces of the Node-API shim over libtorch: tensor handles, dtype
// names and error translation. Kept header-only and small so that each
// translation unit pays the libtorch include cost once.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <napi.h>

#include <string>

namespace lw {

// A JS-visible tensor: an External pointing at this box, deleted by free().
struct TensorBox {
  at::Tensor t;
  int64_t reported = 0;  // bytes announced to V8 for GC pressure
};

struct GeneratorBox {
  at::Generator g;
};

Napi::Value WrapTensor(Napi::Env env, at::Tensor t);
at::Tensor& UnwrapTensor(const Napi::Value& v, const char* what);
at::Generator& UnwrapGenerator(const Napi::Value& v);

at::ScalarType ParseDtype(const std::string& name);
const char* DtypeName(at::ScalarType t);
c10::Device ParseDevice(const std::string& name);
std::string Describe(const at::Tensor& t);  // e.g. float32[2, 3]

// Runs `fn`, turning libtorch and std exceptions into JS errors that start
// with `where`. No native error ever escapes as a process abort.
template <typename Fn>
auto Guard(Napi::Env env, const std::string& where, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, where + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, where + ": " + e.what());
  }
}

void InitOps(Napi::Env env, Napi::Object exports);
void InitTensor(Napi::Env env, Napi::Object exports);
void InitRuntime(Napi::Env env, Napi::Object exports);

}  // namespace lw
