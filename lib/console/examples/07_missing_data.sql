-- Missing data
SELECT count(*) AS posts,
       count(*) FILTER (WHERE category IS NULL) AS without_category,
       count(*) FILTER (WHERE published IS NULL) AS without_date,
       count(*) FILTER (WHERE url IS NULL) AS without_link,
       count(*) FILTER (WHERE title_derived) AS derived_title
FROM posts
