	Bsqrt_one_minus_alphas_cumprodJH³ΫΙΎΪ?I­ "¥?κf…ΓBκ©?Χμ}υ­?2‹qώµ
Ή?8A0ΠΤ?p\¤Ò8λ?UÒBV¨μο?ΪΩΣγμο?