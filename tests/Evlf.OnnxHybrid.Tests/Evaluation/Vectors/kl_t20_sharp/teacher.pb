BteacherJTú
{B‚©BÂHhÁ	ÁF:ˆBd5QÁÎ² Á-;›Á„r3BäAõöÑBŒµG@YbB!…A¡YB€—çÁ^á/Â­¹Â¾lâ?ÚÁpÓ©À