import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanImageRef, imagePathCandidates, imageRefReadings, looksLikeImage, unescapeString } from '../src/text/imagePaths';

/** The candidate paths for the cursor on the first occurrence of `at` in `line`. */
function paths(line: string, at: string): string[] {
  const i = line.indexOf(at);
  assert.ok(i >= 0, `${at} in ${line}`);
  return imagePathCandidates(line, i + Math.floor(at.length / 2)).map((c) => c.path);
}

test('Markdown destinations with parentheses, %20 and spaces in <…>', () => {
  assert.equal(paths('![](photos/my%20photo%20(1).jpg)', 'photo%20(1)')[0], 'photos/my photo (1).jpg');
  assert.equal(paths('![](<photos/my photo (1).jpg>)', 'photo (1)')[0], 'photos/my photo (1).jpg');
  assert.equal(paths('![a](photos/my%20photo%20%281%29.jpg "title")', '%281')[0], 'photos/my photo (1).jpg');
  assert.equal(paths('see `photos/cat.jpg` here', 'cat')[0], 'photos/cat.jpg');
  // Unquoted text is ambiguous: every reading, longest first (the hover keeps the first that exists); an unbalanced
  // parenthesis around the name is never part of it.
  assert.deepEqual(paths('(see photos/cat.jpg)', 'cat'), ['see photos/cat.jpg', 'photos/cat.jpg']);
});

test('unicode names, quoted strings and their escapes', () => {
  assert.equal(paths('<img src="photos/猫 cat.jpg" alt="猫">', '猫 cat')[0], 'photos/猫 cat.jpg');
  assert.equal(paths('{ "image": "photos/\\u732b cat.jpg" }', 'cat')[0], 'photos/猫 cat.jpg');
  assert.equal(paths('{ "image": "C:\\\\pics\\\\cat.jpg" }', 'pics')[0], 'C:\\pics\\cat.jpg');
  assert.equal(paths("img = open('photos/my photo (1).jpg')", 'my photo')[0], 'photos/my photo (1).jpg');
  assert.equal(paths('const src = `photos/it\\`s.png`;', 'photos')[0], 'photos/it`s.png');
  // YAML: `cover:` reads as a URI scheme, so the first reading is the path after it.
  assert.deepEqual(paths('cover: photos/my photo (1).jpg', 'my photo'), ['photos/my photo (1).jpg', 'photo (1).jpg']);
});

test('query strings and fragments are dropped; file:// URIs become paths; other schemes are not files', () => {
  assert.equal(paths('background: url(img/bg.png?v=3#x);', 'bg')[0], 'img/bg.png');
  assert.equal(paths('"file:///home/me/pics/my%20cat.webp"', 'pics')[0], '/home/me/pics/my cat.webp');
  assert.equal(cleanImageRef('file:///C:/Users/me/cat.jpg'), 'C:/Users/me/cat.jpg');
  assert.deepEqual(paths('"https://example.com/cat.jpg"', 'example'), []);
  assert.equal(cleanImageRef('data:image/png;base64,AAAA.png'), undefined);
  assert.equal(cleanImageRef('<photos/a b.jpg>'), 'photos/a b.jpg');
  assert.equal(cleanImageRef('100%.png'), '100%.png');
});

test('no candidate off the path or for other extensions', () => {
  assert.deepEqual(paths('just some text, no image', 'some'), []);
  assert.deepEqual(paths('"notes.txt"', 'notes'), []);
  const line = 'a.jpg and b.png';
  assert.deepEqual(
    imagePathCandidates(line, line.indexOf('b.png') + 1).map((c) => c.path),
    ['and b.png', 'b.png'],
  );
  const c = imagePathCandidates('x ![](photos/a%20(1).jpg?raw=1) y', 10)[0]!;
  assert.equal('x ![](photos/a%20(1).jpg?raw=1) y'.slice(c.start, c.end), 'photos/a%20(1).jpg?raw=1');
});

test('HEIC is an image reference too (the hover says why it has no labels)', () => {
  assert.equal(looksLikeImage('IMG_0001.HEIC'), true);
  assert.equal(looksLikeImage('a.jpg?x=1'), true);
  assert.equal(looksLikeImage('a.txt'), false);
  assert.equal(unescapeString('a\\\\b\\/c\\x41'), 'a\\b/cA');
});

test('the cases the old single-pattern reader handled still read the same (first reading)', () => {
  const first = (line: string, ch: number) => imagePathCandidates(line, ch)[0]?.path;
  const md = '![coffee](photos/skimage_coffee.jpg) and ![x](other.png)';
  assert.equal(first(md, 15), 'photos/skimage_coffee.jpg');
  assert.equal(first(md, 50), 'other.png');
  assert.equal(first(md, 3), undefined);
  assert.equal(first('<img src="img/my cat.webp?v=2">', 14), 'img/my cat.webp');
  assert.equal(first("background: url('../a/b.PNG');", 20), '../a/b.PNG');
  assert.equal(first('icon: assets/logo.svg', 10), 'assets/logo.svg');
  assert.equal(first('import cat from "./cat%20one.jpeg";', 22), './cat one.jpeg');
  assert.equal(first('plain text without images', 5), undefined);
  assert.equal(first('![x](photos/a.jfif)', 8), 'photos/a.jfif');
  assert.equal(first('src="b.JPE"', 7), 'b.JPE');
  const tok = imagePathCandidates('x = "pics/a.tif"', 8)[0]!;
  assert.deepEqual([tok.start, tok.end], [5, 15]);
  // A URL is never read as a file; only the readings before its scheme remain (none of them exists on disk).
  assert.ok(!imagePathCandidates('see https://example.com/a.png', 20).some((c) => /example\.com/.test(c.path) && !/^see /.test(c.path)));
});

test('a name with a literal # or ? is read as written first, then as a URL with a fragment (issue 18)', () => {
  assert.deepEqual(imageRefReadings('IMG 2024-05-01 #3.png'), ['IMG 2024-05-01 #3.png']);
  assert.deepEqual(imageRefReadings('photos/a.png#b.png'), ['photos/a.png#b.png', 'photos/a.png']);
  assert.deepEqual(imageRefReadings('<photos/IMG 2024-05-01 #3.png>'), ['photos/IMG 2024-05-01 #3.png']);
  assert.deepEqual(imageRefReadings('photos/IMG%202024-05-01%20%233.png'), ['photos/IMG 2024-05-01 #3.png']);
  assert.deepEqual(imageRefReadings('file:///home/me/a%20b.png?x.png'), ['/home/me/a%20b.png?x.png', '/home/me/a b.png']);
  // A fragment that is no image name is only a fragment.
  assert.deepEqual(imageRefReadings('img/bg.png?v=3#x'), ['img/bg.png']);
  assert.deepEqual(imageRefReadings('https://example.com/a.png#b.png'), []);
  assert.equal(paths('{ "shot": "photos/IMG 2024-05-01 #3.png" }', '#3')[0], 'photos/IMG 2024-05-01 #3.png');
  assert.equal(paths('Hash: ![](<../photos/IMG 2024-05-01 #3.png>)', '#3')[0], '../photos/IMG 2024-05-01 #3.png');
  // Unquoted in prose: the longest reading first (the hover keeps the first that exists).
  assert.equal(paths('see photos/IMG 2024-05-01 #3.png here', '#3')[0], 'see photos/IMG 2024-05-01 #3.png');
  assert.ok(paths('see photos/IMG 2024-05-01 #3.png here', '#3').includes('photos/IMG 2024-05-01 #3.png'));
});

test("bare names with & and an apostrophe in prose (x&y'q.jpg) are read whole (issue 18)", () => {
  assert.ok(paths("Bare: photos/x&y'q.jpg in prose", "y'q").includes("photos/x&y'q.jpg"));
  assert.ok(paths("it's photos/x&y'q.jpg, isn't it", 'x&y').includes("photos/x&y'q.jpg"));
  assert.ok(paths('Bare: photos/a&b.jpg', 'a&b').includes('photos/a&b.jpg'));
  // A quote that opens a string still ends an unquoted scan.
  assert.deepEqual(paths("open('photos/cat.jpg')", 'cat'), ['photos/cat.jpg']);
});
