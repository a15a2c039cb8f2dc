/** A create_node op for an `Item`, the shape raw-peer tests put on the wire by hand. */
export const node = (id: string, props: Record<string, string | number> = {}) => ({
  op: 'create_node' as const,
  label: 'Item',
  id,
  properties: props,
});
