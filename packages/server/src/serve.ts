export async function serve(_args: string[]): Promise<void> {
  throw new Error('serve: not implemented yet');
}
