-- Posts that use a word most
SELECT p.title, s.tf AS times, t.df AS posts_with_word
FROM postings s JOIN terms t USING (term_id) JOIN posts p USING (doc)
WHERE t.term = '显存'
ORDER BY s.tf DESC, p.title
LIMIT 20
