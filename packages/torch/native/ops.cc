// Schema-driven calls into ATen through the c10 dispatcher: the same kernels,
// autograd formulas and type promotion that Python's torch uses. JS values are
// converted by the operator's declared argument types; omitted arguments take
// the schema's defaults; keyword arguments are matched by name.
#include <ATen/ScalarOps.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <cmath>
#include <mutex>
#include <vector>

#include "common.h"

namespace lw {

namespace {

std::mutex g_ops_mutex;
std::vector<c10::OperatorHandle> g_ops;  // index = op id handed to JS

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
      if (v.IsNumber() || v.IsBoolean()) return c10::IValue(at::native::wrapped_scalar_tensor(ToScalar(v, name)));
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

std::string DescribeStack(const c10::FunctionSchema& schema, const torch::jit::Stack& stack) {
  std::string s;
  const auto& args = schema.arguments();
  for (size_t i = 0; i < stack.size() && i < args.size(); ++i) {
    const auto& iv = stack[i];
    std::string d;
    if (iv.isTensor()) d = Describe(iv.toTensor());
    else if (iv.isTensorList()) {
      d = "[";
      auto l = iv.toTensorList();
      for (size_t k = 0; k < l.size() && k < 4; ++k) d += (k ? ", " : "") + Describe(l.get(k));
      d += l.size() > 4 ? ", …]" : "]";
    } else continue;
    if (!s.empty()) s += ", ";
    s += args[i].name() + "=" + d;
  }
  return s;
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
  for (size_t i = 0; i < g_ops.size(); ++i) {
    if (g_ops[i].operator_name() == handle->operator_name()) return Napi::Number::New(env, static_cast<double>(i));
  }
  g_ops.push_back(*handle);
  return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
}

const c10::OperatorHandle& OpById(Napi::Env env, const Napi::Value& v) {
  uint32_t id = v.As<Napi::Number>().Uint32Value();
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  if (id >= g_ops.size()) throw Napi::Error::New(env, "invalid operator id");
  return g_ops[id];
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  const auto& op = OpById(info.Env(), info[0]);
  std::ostringstream ss;
  ss << op.schema();
  return Napi::String::New(info.Env(), ss.str());
}

// call(id, positional[], kwargs|null, discardResult?)
Napi::Value Call(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const c10::OperatorHandle& op = OpById(env, info[0]);
  const c10::FunctionSchema& schema = op.schema();
  const auto& formals = schema.arguments();
  Napi::Array positional = info[1].As<Napi::Array>();
  bool hasKw = info.Length() > 2 && info[2].IsObject();
  Napi::Object kwargs = hasKw ? info[2].As<Napi::Object>() : Napi::Object();
  bool discard = info.Length() > 3 && info[3].ToBoolean().Value();
  uint32_t npos = positional.Length();

  auto opName = [&]() {
    std::string n = schema.name();
    if (!schema.overload_name().empty()) n += "." + schema.overload_name();
    return n;
  };

  if (npos > formals.size()) {
    throw Napi::Error::New(env, opName() + ": takes " + std::to_string(formals.size()) + " arguments, got " +
                                    std::to_string(npos));
  }
  torch::jit::Stack stack;
  stack.reserve(formals.size());
  uint32_t usedKw = 0;
  try {
    for (size_t i = 0; i < formals.size(); ++i) {
      const c10::Argument& arg = formals[i];
      Napi::Value v = env.Undefined();
      bool given = false;
      if (i < npos) {
        v = positional.Get(static_cast<uint32_t>(i));
        given = !v.IsUndefined();
      } else if (hasKw && kwargs.Has(arg.name())) {
        v = kwargs.Get(arg.name());
        given = !v.IsUndefined();
        ++usedKw;
      }
      if (!given) {
        if (arg.default_value()) {
          stack.push_back(*arg.default_value());
          continue;
        }
        if (arg.type()->kind() == c10::TypeKind::OptionalType) {
          stack.emplace_back();
          continue;
        }
        throw ArgError("missing argument '" + arg.name() + "'");
      }
      stack.push_back(Convert(v, arg.real_type(), arg));
    }
    if (hasKw && usedKw != kwargs.GetPropertyNames().Length()) {
      auto keys = kwargs.GetPropertyNames();
      for (uint32_t k = 0; k < keys.Length(); ++k) {
        std::string key = keys.Get(k).As<Napi::String>().Utf8Value();
        bool known = false;
        for (const auto& a : formals) known = known || a.name() == key;
        if (!known) throw ArgError("unexpected keyword argument '" + key + "'");
      }
    }
  } catch (const ArgError& e) {
    throw Napi::TypeError::New(env, opName() + ": " + e.what());
  } catch (const Napi::Error& e) {
    throw Napi::TypeError::New(env, opName() + ": " + e.Message());
  } catch (const std::exception& e) {
    throw Napi::TypeError::New(env, opName() + ": " + e.what());
  }

  // Kept so that an error can name the inputs even after the kernel consumed the stack.
  torch::jit::Stack inputs = stack;
  try {
    op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, opName() + "(" + DescribeStack(schema, inputs) + "): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, opName() + "(" + DescribeStack(schema, inputs) + "): " + e.what());
  }
  if (discard) return env.Undefined();
  if (stack.empty()) return env.Undefined();
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
