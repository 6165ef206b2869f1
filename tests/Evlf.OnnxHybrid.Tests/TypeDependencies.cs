using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Evlf.OnnxHybrid.Tests;

/// <summary>
/// Which of an assembly's own types each of its types uses, read from the compiled metadata: base type, interfaces,
/// generic constraints, attributes, the signatures of fields, methods and properties, local variables, and every type,
/// method and field token in the IL of method bodies. The compiler's nested types (lambdas' closures, iterators,
/// async state machines) count for the type that declares them. What the compiler leaves no trace of cannot be seen:
/// constants (inlined as values), <c>nameof</c> and doc comments.
/// </summary>
public sealed class TypeDependencies : ISignatureTypeProvider<int, object?>
{
    /// <summary>A type by namespace and name, outermost declaring type for nested ones.</summary>
    public readonly record struct TypeName(string Namespace, string Name)
    {
        public override string ToString() => $"{Namespace}.{Name}";
    }

    // Operand types by opcode value, from the runtime's own opcode table.
    static readonly Dictionary<ushort, OperandType> Operands = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (ushort)o.Value, o => o.OperandType);

    readonly MetadataReader md;
    HashSet<TypeDefinitionHandle> found = new();

    TypeDependencies(MetadataReader md) => this.md = md;

    /// <summary>Every (user, used) pair of distinct types of the assembly at <paramref name="path"/>.</summary>
    public static HashSet<(TypeName From, TypeName To)> Of(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var reader = new TypeDependencies(pe.GetMetadataReader());
        var pairs = new HashSet<(TypeName, TypeName)>();
        foreach (var handle in reader.md.TypeDefinitions)
        {
            reader.found = new();
            reader.Scan(handle, pe);
            var from = reader.Owner(handle);
            foreach (var to in reader.found.Select(reader.Owner).Where(t => t != from)) pairs.Add((from, to));
        }
        return pairs;
    }

    TypeName Owner(TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        while (type.IsNested) type = md.GetTypeDefinition(type.GetDeclaringType());
        return new TypeName(md.GetString(type.Namespace), md.GetString(type.Name));
    }

    void Scan(TypeDefinitionHandle handle, PEReader pe)
    {
        var type = md.GetTypeDefinition(handle);
        Entity(type.BaseType);
        foreach (var i in type.GetInterfaceImplementations()) Entity(md.GetInterfaceImplementation(i).Interface);
        foreach (var p in type.GetGenericParameters())
            foreach (var c in md.GetGenericParameter(p).GetConstraints()) Entity(md.GetGenericParameterConstraint(c).Type);
        Attributes(type.GetCustomAttributes());
        foreach (var f in type.GetFields())
        {
            var field = md.GetFieldDefinition(f);
            field.DecodeSignature(this, null);
            Attributes(field.GetCustomAttributes());
        }
        foreach (var p in type.GetProperties())
        {
            var property = md.GetPropertyDefinition(p);
            property.DecodeSignature(this, null);
            Attributes(property.GetCustomAttributes());
        }
        foreach (var e in type.GetEvents()) Entity(md.GetEventDefinition(e).Type);
        foreach (var m in type.GetMethods())
        {
            var method = md.GetMethodDefinition(m);
            method.DecodeSignature(this, null);
            Attributes(method.GetCustomAttributes());
            if (method.RelativeVirtualAddress == 0) continue;
            var body = pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil) md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null);
            Instructions(body.GetILReader());
        }
    }

    void Attributes(CustomAttributeHandleCollection attributes)
    {
        foreach (var a in attributes) Entity(md.GetCustomAttribute(a).Constructor);
    }

    void Instructions(BlobReader il)
    {
        while (il.RemainingBytes > 0)
        {
            ushort code = il.ReadByte();
            if (code == 0xFE) code = (ushort)(0xFE00 | il.ReadByte());
            switch (Operands[code])
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    Entity(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineSwitch:
                    int targets = il.ReadInt32();
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineBrTarget or OperandType.InlineI or OperandType.InlineSig or OperandType.InlineString or OperandType.ShortInlineR:
                    il.Offset += 4;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
            }
        }
    }

    void Entity(EntityHandle handle)
    {
        if (handle.IsNil) return;
        switch (handle.Kind)
        {
            case HandleKind.TypeDefinition: found.Add((TypeDefinitionHandle)handle); break;
            case HandleKind.TypeSpecification: md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null); break;
            case HandleKind.MethodDefinition: found.Add(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType()); break;
            case HandleKind.FieldDefinition: found.Add(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType()); break;
            case HandleKind.MemberReference: Entity(md.GetMemberReference((MemberReferenceHandle)handle).Parent); break;
            case HandleKind.MethodSpecification:
                var spec = md.GetMethodSpecification((MethodSpecificationHandle)handle);
                Entity(spec.Method);
                spec.DecodeSignature(this, null);
                break;
            // TypeReference: another assembly's type.
        }
    }

    // The signature decoder calls these for every type in a signature; only this assembly's definitions are kept.
    public int GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) { found.Add(handle); return 0; }
    public int GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
        reader.GetTypeSpecification(handle).DecodeSignature(this, context);
    public int GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => 0;
    public int GetPrimitiveType(PrimitiveTypeCode typeCode) => 0;
    public int GetSZArrayType(int elementType) => 0;
    public int GetArrayType(int elementType, ArrayShape shape) => 0;
    public int GetByReferenceType(int elementType) => 0;
    public int GetPointerType(int elementType) => 0;
    public int GetPinnedType(int elementType) => 0;
    public int GetGenericInstantiation(int genericType, ImmutableArray<int> typeArguments) => 0;
    public int GetGenericMethodParameter(object? context, int index) => 0;
    public int GetGenericTypeParameter(object? context, int index) => 0;
    public int GetFunctionPointerType(MethodSignature<int> signature) => 0;
    public int GetModifiedType(int modifier, int unmodifiedType, bool isRequired) => 0;
}
