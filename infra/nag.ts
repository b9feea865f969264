/**
 * cdk-nag helpers shared by the main construct and its sub-constructs (kept apart from
 * restore-validation.ts so sub-constructs can import it without an import cycle).
 */
/** cdk-nag's rendering of a resolved CloudFormation value (`<Logical.Arn>`, `<AWS::Region>`), to name findings. */
export function nagFlatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(nagFlatten).join(delimiter);
    }
    if (o['Fn::Sub'] !== undefined) return nagFlatten(o['Fn::Sub']);
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [res, attr] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${nagFlatten(res)}.${nagFlatten(attr)}>`;
    }
    if (o['Fn::ImportValue'] !== undefined) return nagFlatten(o['Fn::ImportValue']);
    if (o.Ref !== undefined) return `<${nagFlatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
