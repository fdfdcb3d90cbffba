// Schema-driven calls into ATen through the c10 dispatcher: the same kernels,
// autograd formulas and type promotion that Python's torch uses. JS values are
// converted by the operator's declared argument types; omitted arguments take
// the schema's defaults; keyword arguments are matched by name.
#include <ATen/ScalarOps.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <cmath>
#include <atomic>
#include <mutex>
#include <vector>

#include "common.h"

namespace lw {

namespace {

// Operator table, index = op id handed to JS. Capacity is reserved up front so
// that readers never see a reallocation and need no lock; only writers lock.
constexpr size_t kMaxOps = 1 << 14;

// Functional operators whose schema is (Tensor) -> Tensor, (Tensor, Tensor)
// -> Tensor or (Tensor, Tensor, Scalar) -> Tensor are also called unboxed:
// no IValues, no stack, no boxing wrapper. These are most small elementwise
// ops, where that bookkeeping costs as much as the kernel.
enum class FastKind { kNone, kUnary, kBinary, kBinaryScalar };

using UnaryFn = at::Tensor(const at::Tensor&);
using BinaryFn = at::Tensor(const at::Tensor&, const at::Tensor&);
using BinaryScalarFn = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Scalar&);

struct OpEntry {
  c10::OperatorHandle handle;
  FastKind kind = FastKind::kNone;
  c10::Scalar scalarDefault;  // kBinaryScalar: the schema default of the third argument
};

std::mutex g_ops_mutex;
std::vector<OpEntry> g_ops;
std::atomic<size_t> g_ops_count{0};

FastKind Classify(const c10::OperatorHandle& h, c10::Scalar* scalarDefault) {
  const auto& schema = h.schema();
  if (schema.is_mutable() || schema.is_vararg() || schema.returns().size() != 1) return FastKind::kNone;
  const auto& ret = schema.returns()[0];
  if (ret.type()->kind() != c10::TypeKind::TensorType || ret.alias_info()) return FastKind::kNone;
  const auto& args = schema.arguments();
  auto isTensor = [](const c10::Argument& a) {
    return a.type()->kind() == c10::TypeKind::TensorType && !a.alias_info();
  };
  try {
    if (args.size() == 1 && isTensor(args[0])) {
      h.typed<UnaryFn>();
      return FastKind::kUnary;
    }
    if (args.size() == 2 && isTensor(args[0]) && isTensor(args[1])) {
      h.typed<BinaryFn>();
      return FastKind::kBinary;
    }
    if (args.size() == 3 && isTensor(args[0]) && isTensor(args[1]) &&
        args[2].type()->kind() == c10::TypeKind::NumberType && args[2].default_value()) {
      h.typed<BinaryScalarFn>();
      *scalarDefault = args[2].default_value()->toScalar();
      return FastKind::kBinaryScalar;
    }
  } catch (const c10::Error&) {
    // The registered C++ signature differs (e.g. SymInt): use the boxed path.
  }
  return FastKind::kNone;
}

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string ValueKind(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return "number";
  if (v.IsBoolean()) return "boolean";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  if (v.IsExternal()) return "tensor";
  return "object";
}

bool IsIntegral(double d) { return std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15; }

c10::Scalar ToScalar(const Napi::Value& v, const std::string& name) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    // JS has one number type: integral values behave as Python ints.
    if (IsIntegral(d)) return c10::Scalar(static_cast<int64_t>(d));
    return c10::Scalar(d);
  }
  if (v.IsObject() && !v.IsArray() && !v.IsExternal()) {
    // {float: x} forces a floating scalar (Python's 2.0 versus 2).
    auto o = v.As<Napi::Object>();
    if (o.Has("float")) return c10::Scalar(o.Get("float").As<Napi::Number>().DoubleValue());
  }
  throw ArgError("argument '" + name + "' must be a number or boolean, got " + ValueKind(v));
}

int64_t ToInt(const Napi::Value& v, const std::string& name) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (!v.IsNumber()) throw ArgError("argument '" + name + "' must be an integer, got " + ValueKind(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!IsIntegral(d)) throw ArgError("argument '" + name + "' must be an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

c10::MemoryFormat ToMemoryFormat(const std::string& s, const std::string& name) {
  if (s == "contiguous") return c10::MemoryFormat::Contiguous;
  if (s == "channels_last") return c10::MemoryFormat::ChannelsLast;
  if (s == "channels_last_3d") return c10::MemoryFormat::ChannelsLast3d;
  if (s == "preserve") return c10::MemoryFormat::Preserve;
  throw ArgError("argument '" + name + "' must be one of contiguous, channels_last, channels_last_3d, preserve; got '" +
                 s + "'");
}

c10::IValue Convert(const Napi::Value& v, const c10::TypePtr& type, const c10::Argument& arg);

c10::IValue ConvertList(const Napi::Value& v, const c10::TypePtr& elem, const c10::Argument& arg) {
  const std::string& name = arg.name();
  auto kind = elem->kind();
  // Python lets `stride=2` stand for `stride=[2, 2]` when the list has a size.
  if (!v.IsArray()) {
    if ((kind == c10::TypeKind::IntType || kind == c10::TypeKind::SymIntType) && v.IsNumber()) {
      int64_t n = arg.N() ? *arg.N() : 1;
      return c10::IValue(std::vector<int64_t>(n, ToInt(v, name)));
    }
    if (kind == c10::TypeKind::TensorType && v.IsExternal()) {
      return c10::IValue(std::vector<at::Tensor>{UnwrapTensor(v, name.c_str())});
    }
    throw ArgError("argument '" + name + "' must be an array, got " + ValueKind(v));
  }
  auto arr = v.As<Napi::Array>();
  uint32_t n = arr.Length();
  switch (kind) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      std::vector<int64_t> out(n);
      for (uint32_t i = 0; i < n; ++i) out[i] = ToInt(arr.Get(i), name);
      return c10::IValue(out);
    }
    case c10::TypeKind::FloatType: {
      std::vector<double> out(n);
      for (uint32_t i = 0; i < n; ++i) {
        Napi::Value e = arr.Get(i);
        if (!e.IsNumber()) throw ArgError("argument '" + name + "' must hold numbers");
        out[i] = e.As<Napi::Number>().DoubleValue();
      }
      return c10::IValue(out);
    }
    case c10::TypeKind::BoolType: {
      c10::List<bool> out;
      for (uint32_t i = 0; i < n; ++i) out.push_back(arr.Get(i).ToBoolean().Value());
      return c10::IValue(out);
    }
    case c10::TypeKind::TensorType: {
      std::vector<at::Tensor> out;
      out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) out.push_back(UnwrapTensor(arr.Get(i), name.c_str()));
      return c10::IValue(out);
    }
    case c10::TypeKind::NumberType: {
      c10::impl::GenericList out(c10::NumberType::get());
      out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) out.push_back(c10::IValue(ToScalar(arr.Get(i), name)));
      return c10::IValue(out);
    }
    case c10::TypeKind::OptionalType: {
      auto inner = elem->castRaw<c10::OptionalType>()->getElementType();
      if (inner->kind() == c10::TypeKind::TensorType) {
        c10::List<c10::optional<at::Tensor>> out;
        for (uint32_t i = 0; i < n; ++i) {
          Napi::Value e = arr.Get(i);
          if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
          else out.push_back(UnwrapTensor(e, name.c_str()));
        }
        return c10::IValue(out);
      }
      break;
    }
    default:
      break;
  }
  throw ArgError("argument '" + name + "': list of " + elem->str() + " is not supported from JS");
}

c10::IValue Convert(const Napi::Value& v, const c10::TypePtr& type, const c10::Argument& arg) {
  const std::string& name = arg.name();
  switch (type->kind()) {
    case c10::TypeKind::OptionalType: {
      if (v.IsUndefined() || v.IsNull()) return c10::IValue();
      return Convert(v, type->castRaw<c10::OptionalType>()->getElementType(), arg);
    }
    case c10::TypeKind::TensorType: {
      if (v.IsExternal()) return c10::IValue(UnwrapTensor(v, name.c_str()));
      // Numbers (and {float: x}) become wrapped numbers, as Python scalars do.
      if (v.IsNumber() || v.IsBoolean() || (v.IsObject() && !v.IsArray())) {
        return c10::IValue(at::native::wrapped_scalar_tensor(ToScalar(v, name)));
      }
      throw ArgError("argument '" + name + "' must be a tensor, got " + ValueKind(v));
    }
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return c10::IValue(ToInt(v, name));
    case c10::TypeKind::FloatType: {
      if (!v.IsNumber()) throw ArgError("argument '" + name + "' must be a number, got " + ValueKind(v));
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    }
    case c10::TypeKind::BoolType: {
      if (!v.IsBoolean()) throw ArgError("argument '" + name + "' must be a boolean, got " + ValueKind(v));
      return c10::IValue(v.As<Napi::Boolean>().Value());
    }
    case c10::TypeKind::NumberType:
      return c10::IValue(ToScalar(v, name));
    case c10::TypeKind::StringType: {
      if (!v.IsString()) throw ArgError("argument '" + name + "' must be a string, got " + ValueKind(v));
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    }
    case c10::TypeKind::ScalarTypeType: {
      if (!v.IsString()) throw ArgError("argument '" + name + "' must be a dtype name, got " + ValueKind(v));
      try {
        return c10::IValue(ParseDtype(v.As<Napi::String>().Utf8Value()));
      } catch (const std::invalid_argument& e) {
        throw ArgError("argument '" + name + "': " + e.what());
      }
    }
    case c10::TypeKind::LayoutType:
      return c10::IValue(c10::Layout::Strided);
    case c10::TypeKind::MemoryFormatType: {
      if (!v.IsString()) throw ArgError("argument '" + name + "' must be a memory format name, got " + ValueKind(v));
      return c10::IValue(ToMemoryFormat(v.As<Napi::String>().Utf8Value(), name));
    }
    case c10::TypeKind::DeviceObjType: {
      if (!v.IsString()) throw ArgError("argument '" + name + "' must be a device string, got " + ValueKind(v));
      return c10::IValue(ParseDevice(v.As<Napi::String>().Utf8Value()));
    }
    case c10::TypeKind::GeneratorType:
      return c10::IValue(UnwrapGenerator(v));
    case c10::TypeKind::ListType:
      return ConvertList(v, type->castRaw<c10::ListType>()->getElementType(), arg);
    default:
      throw ArgError("argument '" + name + "' of type " + type->str() + " is not supported from JS");
  }
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& iv) {
  if (iv.isTensor()) return WrapTensor(env, iv.toTensor());
  if (iv.isNone()) return env.Null();
  if (iv.isInt()) return Napi::Number::New(env, static_cast<double>(iv.toInt()));
  if (iv.isDouble()) return Napi::Number::New(env, iv.toDouble());
  if (iv.isBool()) return Napi::Boolean::New(env, iv.toBool());
  if (iv.isString()) return Napi::String::New(env, iv.toStringRef());
  if (iv.isTensorList()) {
    auto list = iv.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(i, WrapTensor(env, list.get(i)));
    return arr;
  }
  if (iv.isTuple()) {
    const auto& elems = iv.toTupleRef().elements();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) arr.Set(i, FromIValue(env, elems[i]));
    return arr;
  }
  if (iv.isList()) {
    auto list = iv.toListRef();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(i, FromIValue(env, list[i]));
    return arr;
  }
  if (iv.isIntList()) {
    auto list = iv.toIntVector();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(i, Napi::Number::New(env, static_cast<double>(list[i])));
    return arr;
  }
  if (iv.isComplexDouble()) {
    auto c = iv.toComplexDouble();
    auto arr = Napi::Array::New(env, 2);
    arr.Set(0u, Napi::Number::New(env, c.real()));
    arr.Set(1u, Napi::Number::New(env, c.imag()));
    return arr;
  }
  throw Napi::Error::New(env, "cannot return a value of type " + iv.tagKind() + " to JS");
}

// opId(name, overload) -> integer id (cached per name on the JS side).
Napi::Value OpId(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  if (name.find("::") == std::string::npos) name = "aten::" + name;
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    throw Napi::Error::New(env, "unknown operator " + name + (overload.empty() ? "" : "." + overload));
  }
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  if (g_ops.capacity() < kMaxOps) g_ops.reserve(kMaxOps);
  for (size_t i = 0; i < g_ops.size(); ++i) {
    if (g_ops[i].handle.operator_name() == handle->operator_name()) return Napi::Number::New(env, static_cast<double>(i));
  }
  if (g_ops.size() >= kMaxOps) throw Napi::Error::New(env, "too many distinct operators");
  OpEntry entry{*handle};
  entry.kind = Classify(*handle, &entry.scalarDefault);
  g_ops.push_back(entry);
  g_ops_count.store(g_ops.size(), std::memory_order_release);
  return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
}

const OpEntry& OpById(Napi::Env env, const Napi::Value& v) {
  uint32_t id = v.As<Napi::Number>().Uint32Value();
  if (id >= g_ops_count.load(std::memory_order_acquire)) throw Napi::Error::New(env, "invalid operator id");
  return g_ops[id];
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  const auto& op = OpById(info.Env(), info[0]).handle;
  std::ostringstream ss;
  ss << op.schema();
  return Napi::String::New(info.Env(), ss.str());
}

std::string DescribeJsArgs(const c10::FunctionSchema& schema, const std::vector<napi_value>& slots, Napi::Env env) {
  std::string s;
  const auto& formals = schema.arguments();
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] == nullptr) continue;
    Napi::Value v(env, slots[i]);
    std::string d;
    if (v.IsExternal()) {
      d = Describe(v.As<Napi::External<TensorBox>>().Data()->t);
    } else if (v.IsArray()) {
      auto arr = v.As<Napi::Array>();
      bool tensors = false;
      d = "[";
      for (uint32_t k = 0; k < arr.Length() && k < 4; ++k) {
        Napi::Value e = arr.Get(k);
        if (!e.IsExternal()) continue;
        tensors = true;
        d += (k ? ", " : "") + Describe(e.As<Napi::External<TensorBox>>().Data()->t);
      }
      d += arr.Length() > 4 ? ", ...]" : "]";
      if (!tensors) continue;
    } else {
      continue;
    }
    if (!s.empty()) s += ", ";
    s += formals[i].name() + "=" + d;
  }
  return s;
}

struct CallBuffers {
  std::vector<napi_value> slots;
  torch::jit::Stack stack;
};

// call(id, kwargs|null, discardResult, ...positional). Positional arguments
// travel as JS call arguments: reading them costs far less than array elements.
// Tries the unboxed call; returns false when the arguments don't fit it
// (keywords, wrapped-number scalars, optional arguments spelled out).
bool TryFast(const Napi::CallbackInfo& info, const OpEntry& entry, uint32_t npos, at::Tensor* out) {
  if (entry.kind == FastKind::kNone || info[1].IsObject()) return false;
  auto tensorAt = [&](uint32_t i) -> at::Tensor* {
    Napi::Value v = info[i + 3];
    if (!v.IsExternal()) return nullptr;
    at::Tensor& t = v.As<Napi::External<TensorBox>>().Data()->t;
    return t.defined() ? &t : nullptr;
  };
  switch (entry.kind) {
    case FastKind::kUnary: {
      at::Tensor* a = npos == 1 ? tensorAt(0) : nullptr;
      if (!a) return false;
      *out = entry.handle.typed<UnaryFn>().call(*a);
      return true;
    }
    case FastKind::kBinary: {
      at::Tensor* a = npos == 2 ? tensorAt(0) : nullptr;
      at::Tensor* b = a ? tensorAt(1) : nullptr;
      if (!b) return false;
      *out = entry.handle.typed<BinaryFn>().call(*a, *b);
      return true;
    }
    case FastKind::kBinaryScalar: {
      if (npos != 2 && npos != 3) return false;
      at::Tensor* a = tensorAt(0);
      at::Tensor* b = a ? tensorAt(1) : nullptr;
      if (!b) return false;
      c10::Scalar alpha = entry.scalarDefault;
      if (npos == 3) {
        Napi::Value v = info[5];
        if (v.IsNumber()) {
          alpha = ToScalar(v, "alpha");
        } else if (!v.IsUndefined()) {
          return false;
        }
      }
      *out = entry.handle.typed<BinaryScalarFn>().call(*a, *b, alpha);
      return true;
    }
    default:
      return false;
  }
}

Napi::Value Call(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const OpEntry& entry = OpById(env, info[0]);
  const c10::OperatorHandle& op = entry.handle;
  const c10::FunctionSchema& schema = op.schema();
  const auto& formals = schema.arguments();
  bool discard = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  uint32_t npos = info.Length() > 3 ? static_cast<uint32_t>(info.Length() - 3) : 0;

  auto opName = [&]() {
    std::string n = schema.name();
    if (!schema.overload_name().empty()) n += "." + schema.overload_name();
    return n;
  };

  if (entry.kind != FastKind::kNone) {
    at::Tensor result;
    bool done = false;
    try {
      done = TryFast(info, entry, npos, &result);
    } catch (const std::exception& e) {
      std::vector<napi_value> slots(formals.size(), nullptr);
      for (uint32_t i = 0; i < npos && i < slots.size(); ++i) slots[i] = info[i + 3];
      const c10::Error* ce = dynamic_cast<const c10::Error*>(&e);
      throw Napi::Error::New(env, opName() + "(" + DescribeJsArgs(schema, slots, env) + "): " +
                                      (ce ? ce->what_without_backtrace() : e.what()));
    }
    if (done) return discard ? env.Undefined() : WrapTensor(env, std::move(result));
  }

  // Gather the JS value for each formal argument: positional first, then
  // keyword arguments matched by schema name.
  // Reused per thread: allocation showed up as ~15% of a small op's cost.
  // Call never re-enters itself (no JS runs inside a kernel).
  static thread_local CallBuffers buffers;
  std::vector<napi_value>& slots = buffers.slots;
  torch::jit::Stack& stack = buffers.stack;
  slots.assign(formals.size(), nullptr);
  stack.clear();
  // Whatever happens, the reused stack must not keep tensors alive.
  struct ClearOnExit {
    torch::jit::Stack& s;
    ~ClearOnExit() { s.clear(); }
  } clearOnExit{stack};
  try {
    if (npos > formals.size()) {
      throw ArgError("takes " + std::to_string(formals.size()) + " arguments, got " + std::to_string(npos));
    }
    for (uint32_t i = 0; i < npos; ++i) {
      Napi::Value v = info[i + 3];
      if (!v.IsUndefined()) slots[i] = v;
    }
    if (info[1].IsObject()) {
      Napi::Object kwargs = info[1].As<Napi::Object>();
      Napi::Array keys = kwargs.GetPropertyNames();
      for (uint32_t k = 0; k < keys.Length(); ++k) {
        Napi::Value key = keys.Get(k);
        std::string name = key.As<Napi::String>().Utf8Value();
        size_t idx = formals.size();
        for (size_t i = 0; i < formals.size(); ++i) {
          if (formals[i].name() == name) {
            idx = i;
            break;
          }
        }
        if (idx == formals.size()) throw ArgError("unexpected keyword argument '" + name + "'");
        if (idx < npos) throw ArgError("argument '" + name + "' given both by position and by keyword");
        Napi::Value v = kwargs.Get(key);
        if (!v.IsUndefined()) slots[idx] = v;
      }
    }
  } catch (const ArgError& e) {
    throw Napi::TypeError::New(env, opName() + ": " + e.what());
  }

  try {
    for (size_t i = 0; i < formals.size(); ++i) {
      const c10::Argument& arg = formals[i];
      if (slots[i] == nullptr) {
        if (arg.default_value()) {
          stack.push_back(*arg.default_value());
        } else if (arg.type()->kind() == c10::TypeKind::OptionalType) {
          stack.emplace_back();
        } else {
          throw ArgError("missing argument '" + arg.name() + "'");
        }
        continue;
      }
      stack.push_back(Convert(Napi::Value(env, slots[i]), arg.real_type(), arg));
    }
  } catch (const ArgError& e) {
    throw Napi::TypeError::New(env, opName() + ": " + e.what());
  } catch (const Napi::Error& e) {
    throw Napi::TypeError::New(env, opName() + ": " + e.Message());
  } catch (const std::exception& e) {
    throw Napi::TypeError::New(env, opName() + ": " + e.what());
  }

  try {
    op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, opName() + "(" + DescribeJsArgs(schema, slots, env) + "): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, opName() + "(" + DescribeJsArgs(schema, slots, env) + "): " + e.what());
  }
  if (discard || stack.empty()) return env.Undefined();
  if (stack.size() == 1) return FromIValue(env, stack[0]);
  auto arr = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) arr.Set(i, FromIValue(env, stack[i]));
  return arr;
}

}  // namespace

void InitOps(Napi::Env env, Napi::Object exports) {
  exports.Set("opId", Napi::Function::New(env, OpId));
  exports.Set("opSchema", Napi::Function::New(env, OpSchema));
  exports.Set("call", Napi::Function::New(env, Call));
}

}  // namespace lw
