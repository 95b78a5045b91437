-- Top keywords per category
SELECT coalesce(category, 'Uncategorized') AS category, term,
       round(sum(weight), 3) AS weight, count(*) AS posts
FROM post_keywords
GROUP BY category, term
QUALIFY row_number() OVER (PARTITION BY category ORDER BY sum(weight) DESC) <= 5
ORDER BY category, weight DESC
