	Bsqrt_alphas_cumprodJHå„È#—ÿï?Œ\«eÿï?Ü{ƒÆ†þï?Ü¸TGßýï?l9Ã÷ï?7fÔ›Fî?† ‡wÕÙÑ?#˜Tù
Iz?ßÜÆžiz?