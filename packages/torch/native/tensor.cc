// Tensor handles, conversion to and from JS memory, metadata and autograd.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>

#include <cstring>
#include <unordered_map>

#include "common.h"

namespace lw {

namespace {

int64_t ReportableBytes(const at::Tensor& t) {
  // Views share their base's storage; count only owners to avoid inflating.
  if (!t.defined() || t.is_view() || !t.has_storage() || !t.is_cpu()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// V8 is told about native allocations in batches: one AdjustExternalMemory
// call per megabyte of change rather than one per tensor.
thread_local int64_t g_pending_bytes = 0;

void ReportBytes(Napi::Env env, int64_t delta) {
  g_pending_bytes += delta;
  if (g_pending_bytes >= (1 << 20) || g_pending_bytes <= -(1 << 20)) {
    Napi::MemoryManagement::AdjustExternalMemory(env, g_pending_bytes);
    g_pending_bytes = 0;
  }
}

TensorBox* BoxOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor handle");
  }
  return v.As<Napi::External<TensorBox>>().Data();
}

std::vector<int64_t> ShapeArg(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": shape must be an array");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value e = arr.Get(i);
    if (!e.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": shape entries must be integers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d < 0 || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw Napi::RangeError::New(v.Env(), std::string(what) + ": shape entry " + std::to_string(i) +
                                               " must be a non-negative integer, got " + std::to_string(d));
    }
    out[i] = static_cast<int64_t>(d);
  }
  return out;
}

Napi::Array ToJsShape(Napi::Env env, at::IntArrayRef sizes) {
  auto arr = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) arr.Set(i, Napi::Number::New(env, static_cast<double>(sizes[i])));
  return arr;
}

std::vector<at::Tensor> TensorList(const Napi::Value& v, const char* what, bool allowNull) {
  std::vector<at::Tensor> out;
  if (v.IsUndefined() || v.IsNull()) return out;
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value e = arr.Get(i);
    if (allowNull && (e.IsNull() || e.IsUndefined())) {
      out.emplace_back();
    } else {
      out.push_back(UnwrapTensor(e, what));
    }
  }
  return out;
}

// ---- creation and conversion ----------------------------------------------

// fromBuffer(typedArray, shape, dtype): copies JS memory into a new tensor.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "fromBuffer", [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "fromBuffer: expected a typed array");
    auto ta = info[0].As<Napi::TypedArray>();
    auto shape = ShapeArg(info[1], "fromBuffer");
    auto dtype = ParseDtype(info[2].As<Napi::String>().Utf8Value());
    int64_t numel = 1;
    for (auto s : shape) numel *= s;
    size_t need = static_cast<size_t>(numel) * c10::elementSize(dtype);
    if (ta.ByteLength() != need) {
      throw Napi::RangeError::New(env, "fromBuffer: " + std::to_string(ta.ByteLength()) + " bytes given, shape needs " +
                                           std::to_string(need) + " bytes of " + DtypeName(dtype));
    }
    auto* base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (need) std::memcpy(t.data_ptr(), base, need);
    return WrapTensor(env, t);
  });
}

// toBuffer(h): a copy of the data as an ArrayBuffer in row-major order.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "toBuffer", [&]() -> Napi::Value {
    at::Tensor t = UnwrapTensor(info[0], "toBuffer");
    at::Tensor c = t.detach().to(at::kCPU).resolve_conj().resolve_neg().contiguous();
    size_t n = c.nbytes();
    auto buf = Napi::ArrayBuffer::New(env, n);
    if (n) std::memcpy(buf.Data(), c.data_ptr(), n);
    return buf;
  });
}

// dataView(h): zero-copy view of a contiguous CPU tensor's memory. The
// ArrayBuffer keeps the storage alive until it is garbage-collected.
Napi::Value DataView(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "dataView", [&]() -> Napi::Value {
    at::Tensor t = UnwrapTensor(info[0], "dataView");
    if (!t.is_cpu() || !t.is_contiguous()) {
      throw Napi::Error::New(env, "dataView: needs a contiguous CPU tensor, got " + Describe(t) +
                                      (t.is_cpu() ? " (non-contiguous)" : " on " + t.device().str()));
    }
    auto* keep = new at::Tensor(t);
    return Napi::ArrayBuffer::New(
        env, t.data_ptr(), t.nbytes(), [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
  });
}

// ---- handles and metadata ------------------------------------------------

// free(h): releases the tensor and its box. The JS side guarantees one call
// per handle: Tensor.dispose() clears its handle, and the FinalizationRegistry
// safety net only fires for tensors that were never disposed.
Napi::Value Free(const Napi::CallbackInfo& info) {
  TensorBox* box = BoxOf(info[0], "dispose");
  if (box->reported) ReportBytes(info.Env(), -box->reported);
  delete box;
  return info.Env().Undefined();
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  return ToJsShape(info.Env(), UnwrapTensor(info[0], "shape").sizes());
}

Napi::Value Strides(const Napi::CallbackInfo& info) {
  return ToJsShape(info.Env(), UnwrapTensor(info[0], "stride").strides());
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(UnwrapTensor(info[0], "dtype").scalar_type()));
}

Napi::Value Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), UnwrapTensor(info[0], "device").device().str());
}

Napi::Value Numel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(UnwrapTensor(info[0], "numel").numel()));
}

Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "isContiguous", [&]() -> Napi::Value {
    at::Tensor& t = UnwrapTensor(info[0], "isContiguous");
    auto fmt = at::MemoryFormat::Contiguous;
    if (info.Length() > 1 && info[1].IsString()) {
      auto s = info[1].As<Napi::String>().Utf8Value();
      if (s == "channels_last") fmt = at::MemoryFormat::ChannelsLast;
      else if (s == "channels_last_3d") fmt = at::MemoryFormat::ChannelsLast3d;
    }
    return Napi::Boolean::New(env, t.is_contiguous(fmt));
  });
}

Napi::Value SameStorage(const Napi::CallbackInfo& info) {
  at::Tensor& a = UnwrapTensor(info[0], "sameStorage");
  at::Tensor& b = UnwrapTensor(info[1], "sameStorage");
  bool same = a.has_storage() && b.has_storage() && a.storage().is_alias_of(b.storage());
  return Napi::Boolean::New(info.Env(), same);
}

// ---- autograd -------------------------------------------------------------

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), UnwrapTensor(info[0], "requiresGrad").requires_grad());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "requiresGrad_", [&]() -> Napi::Value {
    UnwrapTensor(info[0], "requiresGrad_").set_requires_grad(info[1].As<Napi::Boolean>().Value());
    return env.Undefined();
  });
}

Napi::Value GetGrad(const Napi::CallbackInfo& info) {
  at::Tensor& t = UnwrapTensor(info[0], "grad");
  const at::Tensor& g = t.grad();
  return g.defined() ? WrapTensor(info.Env(), g) : info.Env().Null();
}

Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "grad=", [&]() -> Napi::Value {
    at::Tensor& t = UnwrapTensor(info[0], "grad=");
    if (info[1].IsNull() || info[1].IsUndefined()) {
      t.mutable_grad().reset();
    } else {
      at::Tensor& g = UnwrapTensor(info[1], "grad=");
      TORCH_CHECK(g.sizes() == t.sizes(), "assigned grad has shape ", g.sizes(), " but the tensor has shape ",
                  t.sizes());
      t.mutable_grad() = g;
    }
    return env.Undefined();
  });
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), UnwrapTensor(info[0], "isLeaf").is_leaf());
}

Napi::Value GradFn(const Napi::CallbackInfo& info) {
  auto fn = UnwrapTensor(info[0], "gradFn").grad_fn();
  return fn ? Napi::String::New(info.Env(), fn->name()) : info.Env().Null();
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, "retainGrad", [&]() -> Napi::Value {
    UnwrapTensor(info[0], "retainGrad").retain_grad();
    return env.Undefined();
  });
}

// backward(tensors, grads, retainGraph|null, createGraph, inputs)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto tensors = TensorList(info[0], "backward", false);
  auto grads = TensorList(info[1], "backward", true);
  c10::optional<bool> retain;
  if (info[2].IsBoolean()) retain = info[2].As<Napi::Boolean>().Value();
  bool create = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  auto inputs = TensorList(info[4], "backward", false);
  std::string where = "backward";
  if (!tensors.empty()) where += " of " + Describe(tensors[0]);
  return Guard(env, where, [&]() -> Napi::Value {
    if (grads.empty()) grads.resize(tensors.size());
    torch::autograd::backward(tensors, grads, retain, create, inputs);
    return env.Undefined();
  });
}

// grad(outputs, inputs, gradOutputs, retainGraph|null, createGraph, allowUnused)
Napi::Value Grad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto outputs = TensorList(info[0], "autograd.grad", false);
  auto inputs = TensorList(info[1], "autograd.grad", false);
  auto gradOutputs = TensorList(info[2], "autograd.grad", true);
  c10::optional<bool> retain;
  if (info[3].IsBoolean()) retain = info[3].As<Napi::Boolean>().Value();
  bool create = info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  bool allowUnused = info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
  return Guard(env, "autograd.grad", [&]() -> Napi::Value {
    if (gradOutputs.empty()) gradOutputs.resize(outputs.size());
    auto res = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
    auto arr = Napi::Array::New(env, res.size());
    for (size_t i = 0; i < res.size(); ++i) arr.Set(i, res[i].defined() ? WrapTensor(env, res[i]) : env.Null());
    return arr;
  });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(info[0].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

}  // namespace

// ---- shared helpers ---------------------------------------------------------

Napi::Value WrapTensor(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  auto* box = new TensorBox{std::move(t), 0};
  box->reported = ReportableBytes(box->t);
  if (box->reported) ReportBytes(env, box->reported);
  // No native finalizer: creating one per tensor costs more than the op.
  napi_value out;
  NAPI_THROW_IF_FAILED(env, napi_create_external(env, box, nullptr, nullptr, &out), Napi::Value());
  return Napi::Value(env, out);
}

at::Tensor& UnwrapTensor(const Napi::Value& v, const char* what) {
  TensorBox* box = BoxOf(v, what);
  if (!box->t.defined()) {
    throw Napi::Error::New(v.Env(), std::string(what) + ": tensor was disposed");
  }
  return box->t;
}

at::Generator& UnwrapGenerator(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a generator handle");
  return v.As<Napi::External<GeneratorBox>>().Data()->g;
}

namespace {
const std::unordered_map<std::string, at::ScalarType>& DtypeTable() {
  static const std::unordered_map<std::string, at::ScalarType> table = {
      {"float32", at::kFloat}, {"float64", at::kDouble},   {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
      {"int64", at::kLong},    {"int32", at::kInt},        {"int16", at::kShort},  {"int8", at::kChar},
      {"uint8", at::kByte},    {"bool", at::kBool},        {"complex64", at::kComplexFloat},
      {"complex128", at::kComplexDouble},
  };
  return table;
}
}  // namespace

at::ScalarType ParseDtype(const std::string& name) {
  auto& table = DtypeTable();
  auto it = table.find(name);
  if (it == table.end()) {
    throw std::invalid_argument("unknown dtype '" + name +
                                "' (expected float32, float64, float16, bfloat16, int64, int32, int16, int8, "
                                "uint8, bool, complex64 or complex128)");
  }
  return it->second;
}

const char* DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kComplexFloat: return "complex64";
    case at::kComplexDouble: return "complex128";
    default: return c10::toString(t);
  }
}

c10::Device ParseDevice(const std::string& name) { return c10::Device(name); }

std::string Describe(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string s = DtypeName(t.scalar_type());
  s += "[";
  for (int64_t i = 0; i < t.dim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(t.size(i));
  }
  s += "]";
  if (!t.is_cpu()) s += "@" + t.device().str();
  return s;
}

void InitTensor(Napi::Env env, Napi::Object exports) {
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer));
  exports.Set("dataView", Napi::Function::New(env, DataView));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("strides", Napi::Function::New(env, Strides));
  exports.Set("dtype", Napi::Function::New(env, Dtype));
  exports.Set("device", Napi::Function::New(env, Device));
  exports.Set("numel", Napi::Function::New(env, Numel));
  exports.Set("isContiguous", Napi::Function::New(env, IsContiguous));
  exports.Set("sameStorage", Napi::Function::New(env, SameStorage));
  exports.Set("requiresGrad", Napi::Function::New(env, RequiresGrad));
  exports.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad));
  exports.Set("getGrad", Napi::Function::New(env, GetGrad));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad));
  exports.Set("isLeaf", Napi::Function::New(env, IsLeaf));
  exports.Set("gradFn", Napi::Function::New(env, GradFn));
  exports.Set("retainGrad", Napi::Function::New(env, RetainGrad));
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("grad", Napi::Function::New(env, Grad));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled));
}

}  // namespace lw
